"""Page views, one module per concept: auth, texter, admin_org, admin_campaign, dashboard."""
