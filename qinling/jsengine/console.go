package jsengine

import (
	"github.com/dop251/goja"

	"eventide/jsrt"
)

// consoleProgram builds Node's console over a native write(line). The
// formatting lives in JavaScript so that user toString/toJSON code runs
// inside the invocation (bounded by its timeout) and its exceptions are
// caught here: console never throws. It follows util.format: a first
// string argument's %s %d %i %f %j %o %O %c %% directives take the next
// arguments, the rest are appended with one space; strings print as they
// are, Errors as their stack, other objects as JSON (where Node prints
// util.inspect's rendering, which has no stable format to match). The
// originals of JSON.stringify (the guarded one), String, Number, parseInt
// and parseFloat are captured so that user code replacing them cannot
// break logging.
var consoleProgram = goja.MustCompile("console.js", `(function (write) {
	'use strict';
	const stringify = JSON.stringify;
	const StringCtor = String, NumberCtor = Number, ErrorCtor = Error;
	const toInt = parseInt, toFloat = parseFloat;
	function show(v, quoted) {
		try {
			switch (typeof v) {
			case 'string': return quoted ? stringify(v) : v;
			case 'undefined': return 'undefined';
			case 'function': return '[Function: ' + (v.name || '(anonymous)') + ']';
			case 'bigint': return StringCtor(v) + 'n';
			case 'object':
				if (v === null) return 'null';
				if (v instanceof ErrorCtor) return typeof v.stack === 'string' ? v.stack : StringCtor(v);
				const s = stringify(v);
				return s === undefined ? StringCtor(v) : s;
			default: return StringCtor(v);
			}
		} catch (e) {
			try { return StringCtor(v); } catch (e2) { return '[unprintable value]'; }
		}
	}
	function directive(d, a) {
		try {
			switch (d) {
			case 's': return typeof a === 'string' ? a : show(a, true);
			case 'd': return typeof a === 'object' && a !== null ? 'NaN' : StringCtor(NumberCtor(a));
			case 'i': return typeof a === 'object' && a !== null ? 'NaN' : StringCtor(toInt(a));
			case 'f': return StringCtor(toFloat(a));
			case 'j': return StringCtor(stringify(a));
			case 'c': return '';
			default: return show(a, true); // %o, %O
			}
		} catch (e) {
			return '[unprintable value]';
		}
	}
	function format(args) {
		let out = '', i = 0;
		if (typeof args[0] === 'string' && args.length > 1) {
			const f = args[0];
			i = 1;
			for (let k = 0; k < f.length; k++) {
				const c = f[k];
				if (c !== '%' || k + 1 >= f.length) { out += c; continue; }
				const d = f[k + 1];
				if (d === '%') { out += '%'; k++; continue; }
				if (i >= args.length || 'sdifjoOc'.indexOf(d) < 0) { out += c; continue; }
				out += directive(d, args[i++]);
				k++;
			}
		}
		for (; i < args.length; i++) out += (i > 0 ? ' ' : '') + show(args[i], false);
		return out;
	}
	function log() { write(format(arguments)); }
	function trace() {
		let stack = '';
		try { stack = new ErrorCtor().stack; } catch (e) {}
		const lines = typeof stack === 'string' ? stack.split('\n').slice(2).join('\n') : '';
		write('Trace: ' + format(arguments) + (lines ? '\n' + lines : ''));
	}
	return {log: log, info: log, debug: log, warn: log, error: log, dir: log, trace: trace};
})`, true)

// installConsole defines the global console, writing each line to write.
func installConsole(rt *jsrt.Runtime, write func(string)) error {
	vm := rt.VM()
	fn, err := rt.RunFactory(consoleProgram)
	if err != nil {
		return err
	}
	native := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		write(call.Argument(0).String())
		return goja.Undefined()
	})
	c, err := fn(goja.Undefined(), native)
	if err != nil {
		return err
	}
	return vm.Set("console", c)
}
