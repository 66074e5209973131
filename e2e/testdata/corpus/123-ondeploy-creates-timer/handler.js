// A nightly-style job started at deploy time: OnDeploy schedules the first
// run of a report.
function OnDeploy(action) {
    createTimer(Report, new Date(Date.now() + 200), "report", {started_by: action.reason});
}

function Report(context) {
    reports["report"] = {started_by: context.started_by};
}

function OnUpdate(doc, meta) {}
