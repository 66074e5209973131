// Back-dated work: a due date already in the past still schedules the
// job; it runs at the next scan instead of being dropped.
function OnUpdate(doc, meta) {
    var due = new Date(doc.due);
    createTimer(RunJob, due, meta.id, {job: meta.id, due: doc.due});
}

function RunJob(context) {
    jobs[context.job] = {ran: true, due: context.due};
}
