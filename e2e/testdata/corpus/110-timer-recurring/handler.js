// A recurring job: the callback re-arms itself with a run counter in the
// context until it has run the requested number of times.
function OnUpdate(doc, meta) {
    createTimer(Poll, new Date(), meta.id, {job: meta.id, run: 1, runs: doc.runs});
}

function Poll(context) {
    runs[context.job] = {last_run: context.run, done: context.run >= context.runs};
    if (context.run < context.runs) {
        var next = new Date(Date.now() + 100);
        createTimer(Poll, next, context.job, {job: context.job, run: context.run + 1, runs: context.runs});
    }
}
