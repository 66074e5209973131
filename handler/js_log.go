package handler

// installLog defines the global log (jsrt's), whose lines go to the
// application log and, with their line, to code insight.
func (w *Worker) installLog() error {
	return w.rt.InstallLog(func(text string) {
		w.writeAppLog("INFO", text)
		w.insightRecordLog(text)
	})
}

// writeAppLog writes one application log line; failures go to the system
// log (once per worker, to avoid flooding it) and never reach JavaScript.
func (w *Worker) writeAppLog(level, msg string) {
	if w.appLog == nil {
		return
	}
	if err := w.appLog.WriteLine(level, msg); err != nil && !w.appLogFailed {
		w.appLogFailed = true
		w.logger.Error("cannot write application log", "error", err)
	}
}
