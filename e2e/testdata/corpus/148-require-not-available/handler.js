// Code copied from a Node.js service: there are no modules to load.
function OnUpdate(doc, meta) {
    var result = {type: typeof require, module_type: typeof module};
    try {
        var crypto = require("crypto");
        result.loaded = true;
    } catch (e) {
        result.loaded = false;
        result.reference_error = e instanceof ReferenceError;
    }
    out[meta.id] = result;
}
