// One reference (the order id) for two kinds of follow-up: the reminder
// and the invoice are different timers because their callbacks differ.
function OnUpdate(doc, meta) {
    createTimer(Remind, new Date(), meta.id, {order: meta.id});
    createTimer(Invoice, new Date(), meta.id, {order: meta.id});
    var cancelled = cancelTimer(Remind, meta.id);
    out[meta.id] = {cancelled_reminder: cancelled};
}

function Remind(context) {
    out["remind::" + context.order] = {sent: true};
}

function Invoice(context) {
    out["invoice::" + context.order] = {sent: true};
}
