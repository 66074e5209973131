// Package qinling is functions on demand, with the OpenStack Qinling
// function-engine API's model: runtimes and the engines behind them,
// functions and their packages, executions, versions, aliases, webhooks and
// cron jobs. Its records are replicated through consensus; the engines that
// run code implement Engine in their own packages (jsengine: JavaScript in
// goja on jsrt; pyengine: python3 worker processes).
package qinling
