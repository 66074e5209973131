// Step 1 records the attempt, step 2 fails: the attempt record was already written.
function OnUpdate(doc, meta) {
    attempts[meta.id] = {started: true};
    if (doc.fail) {
        throw new Error("downstream step failed for " + meta.id);
    }
    attempts[meta.id] = {started: true, finished: true};
}
