// A retry loop in a timer callback that never terminates for one job.
function OnUpdate(doc, meta) {
    createTimer(Work, new Date(), meta.id, {job: meta.id, spin: doc.spin === true});
}

function Work(context) {
    while (context.spin) {}
    done[context.job] = {ok: true};
}
