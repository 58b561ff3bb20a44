// The engine's messages are PyTorch's text, and the engine names the
// exception class separately (`type`); Python prints the class first.

/**
 * The last line of a Python traceback: "RuntimeError: grad can be implicitly ...".
 * @param {string} message
 * @param {string} [type] the exception class the engine reported
 */
export function pythonError(message, type) {
	if (/^[A-Z]\w*(Error|Exception|Warning): /.test(message)) return message;
	return `${type || 'RuntimeError'}: ${message}`;
}
