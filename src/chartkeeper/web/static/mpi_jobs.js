/* Live progress of an MPI batch job: poll its JSON, move the <progress> bar, and reload the page
   once the job has finished so the queue shows what it found. Without JavaScript the page
   refreshes itself (<noscript> meta refresh) instead. */
"use strict";
(function () {
  const bar = document.querySelector("progress[data-job-url]");
  if (!bar || bar.dataset.state !== "running") {
    return;
  }
  const status = document.getElementById("job-status");

  function show(job) {
    bar.value = job.percent;
    bar.textContent = job.percent + "%";
    bar.dataset.state = job.state;
    status.querySelector(".percent").textContent = job.percent + "%";
    status.querySelector(".state").textContent = job.state;
    let message = status.querySelector(".message");
    if (!message) {
      status.append(" — ");
      message = document.createElement("span");
      message.className = "message";
      status.append(message);
    }
    message.textContent = job.message || "";
  }

  async function poll() {
    let response;
    try {
      response = await fetch(bar.dataset.jobUrl, {
        headers: { accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (error) {
      window.setTimeout(poll, 2000); // the server restarting: try again a little later
      return;
    }
    if (!response.ok) {
      status.append(" (progress unavailable: reload the page)");
      return;
    }
    const job = await response.json();
    show(job);
    if (job.state === "running") {
      window.setTimeout(poll, 500);
    } else {
      window.setTimeout(() => window.location.reload(), 800);
    }
  }

  window.setTimeout(poll, 300);
})();
