// Campaign page: copy the join link, and upload contacts with a progress bar.
(function () {
  "use strict";

  var copyButton = document.getElementById("copy-link");
  if (copyButton) {
    copyButton.addEventListener("click", function () {
      var input = document.getElementById(copyButton.dataset.copy);
      var status = document.getElementById("copy-status");
      input.select();
      var done = function () { status.textContent = "Link copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          status.textContent = "Copying failed; select the link and copy it.";
        });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  }

  var form = document.getElementById("upload-form");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var progress = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status");
    var report = document.getElementById("upload-report");
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "fetch");
    request.setRequestHeader("X-CSRFToken", form.elements.csrfmiddlewaretoken.value);
    progress.hidden = false;
    progress.value = 0;
    status.textContent = "Uploading…";
    request.upload.addEventListener("progress", function (progressEvent) {
      if (progressEvent.lengthComputable) {
        progress.value = Math.round((progressEvent.loaded / progressEvent.total) * 100);
        status.textContent = "Uploading: " + progress.value + "%";
      }
    });
    request.upload.addEventListener("load", function () {
      progress.value = 100;
      status.textContent = "Uploaded; checking and importing the rows…";
    });
    request.addEventListener("load", function () {
      status.textContent = request.status < 300 ? "Import finished." : "The upload was rejected.";
      report.innerHTML = request.responseText;
      refreshTotals();
    });
    request.addEventListener("error", function () {
      status.textContent = "The upload failed: the connection was lost. Try again.";
    });
    request.send(new FormData(form));
  });

  // The totals panel is part of the page, not of the upload report, so it is
  // read again from the server once an import has changed the contacts.
  function refreshTotals() {
    var totals = document.getElementById("campaign-totals");
    if (!totals || !window.fetch) {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("campaign-totals");
        if (fresh) {
          totals.replaceWith(fresh);
        }
      });
  }
})();
