// Fire-and-forget timers: no reference is needed, so null asks the
// server to generate one. Two timers created that way are distinct.
function OnUpdate(doc, meta) {
    var first = createTimer(Audit, new Date(), null, {id: meta.id, n: 1});
    var second = createTimer(Audit, new Date(), undefined, {id: meta.id, n: 2});
    refs[meta.id] = {
        first_is_string: typeof first === "string",
        first_non_empty: typeof first === "string" && first.length > 0,
        second_is_string: typeof second === "string",
        distinct: first !== second
    };
}

function Audit(context) {
    refs[context.id + "::fired::" + context.n] = {n: context.n};
}
