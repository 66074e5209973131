// A deployment guard: refuse to run without the settings document.
function OnDeploy(action) {
    var settings = config["settings"];
    if (!settings) {
        throw new Error("settings document missing, refusing to start");
    }
}

function OnUpdate(doc, meta) {
    out[meta.id] = doc;
}
