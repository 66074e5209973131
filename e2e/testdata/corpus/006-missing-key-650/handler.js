// Look up an optional preferences document; absent ones fall back to defaults.
function OnUpdate(doc, meta) {
    var prefs = store["prefs::" + meta.id];
    delete store["never-existed::" + meta.id];
    store["result::" + meta.id] = {
        prefs_undefined: prefs === undefined,
        theme: prefs === undefined ? "light" : prefs.theme
    };
}
