"""Load generator, baselines and report for dynassign's performance benchmark."""
