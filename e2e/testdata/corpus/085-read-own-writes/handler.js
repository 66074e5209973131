// Within one invocation a read sees the invocation's own earlier write and delete.
function OnUpdate(doc, meta) {
    store["tmp::" + meta.id] = {step: 1};
    var afterWrite = store["tmp::" + meta.id];
    delete store["tmp::" + meta.id];
    var afterDelete = store["tmp::" + meta.id];
    store[meta.id] = {after_write: afterWrite.step, after_delete_undefined: afterDelete === undefined};
}
