// Writing something that is not a JSON value through a basic accessor fails.
function OnUpdate(doc, meta) {
    var outcome = {};
    var bad = {fn: function () { return 1; }, undef: undefined, sym: Symbol("s")};
    for (var k in bad) {
        try {
            out[meta.id + "::" + k] = bad[k];
            outcome[k] = "written";
        } catch (e) {
            outcome[k] = e instanceof Error ? "threw" : "threw non-Error";
        }
    }
    out[meta.id] = outcome;
}
