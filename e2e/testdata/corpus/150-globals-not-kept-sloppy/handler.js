// Legacy sloppy-mode handler that counts events in an undeclared global,
// expecting it to survive between events.
function OnUpdate(doc, meta) {
    var before = typeof counter;
    if (typeof counter === "undefined") {
        counter = 0;
    }
    counter = counter + 1;
    out[meta.id] = {before: before, counter: counter, on_global_object: globalThis.counter === counter};
}
