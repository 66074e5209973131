// Same lookup as a new function gets it by default (language_compatibility 7.2.0).
function OnUpdate(doc, meta) {
    var prefs = store["prefs::" + meta.id];
    delete store["never-existed::" + meta.id];
    store["result::" + meta.id] = {prefs_undefined: prefs === undefined};
}
