function OnUpdate(doc, meta) {
    var prev = seen[meta.id];
    seen[meta.id] = {handled: prev ? prev.handled + 1 : 1};
}
