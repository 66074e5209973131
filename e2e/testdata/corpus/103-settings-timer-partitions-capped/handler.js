function OnUpdate(doc, meta) {
    out[meta.id] = {ok: true};
}
