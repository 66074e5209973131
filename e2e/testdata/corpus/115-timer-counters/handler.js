// Follow-up emails: each signup schedules one; a signup that is withdrawn
// cancels it; a follow-up for a blocked address fails in the callback.
function OnUpdate(doc, meta) {
    createTimer(FollowUp, new Date(), meta.id, {user: meta.id, email: doc.email});
    if (doc.withdrawn) {
        cancelTimer(FollowUp, meta.id);
    }
}

function FollowUp(context) {
    if (context.email.endsWith("@blocked.example")) {
        throw new Error("cannot mail " + context.user);
    }
    sent[context.user] = {email: context.email};
}
