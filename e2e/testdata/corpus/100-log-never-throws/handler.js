// Logging a structure that JSON cannot represent must not break the handler.
function OnUpdate(doc, meta) {
    var cyclic = {name: meta.id};
    cyclic.self = cyclic;
    log("cyclic", cyclic);
    log("line after", meta.id);
    out[meta.id] = {logged: true};
}
