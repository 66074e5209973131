// A trial that ends a few seconds after signup; the function is paused
// for maintenance meanwhile, and the trial still ends once, after resume.
function OnUpdate(doc, meta) {
    createTimer(EndTrial, new Date(Date.now() + 3000), meta.id, {account: meta.id});
}

function EndTrial(context) {
    var prev = trials[context.account];
    trials[context.account] = {ended: true, times: prev ? prev.times + 1 : 1};
}
