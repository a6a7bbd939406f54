package ops

import (
	"errors"
	"fmt"
)

// ErrorKind says what went wrong, in terms an operator (and an exit code)
// can act on.
type ErrorKind int

const (
	ErrOther       ErrorKind = iota
	ErrUnreachable           // the node did not answer
	ErrAuth                  // wrong or missing password
	ErrNotActive             // not fluidb, or active-replica is off
	ErrRefused               // pairing a node with itself, or with a node paired elsewhere
	ErrTimeout               // a link or a sync did not come up in time
	ErrProbe                 // the links are up but a probe write did not cross
)

// Exit codes of fluidb pair and watch; 1 is any other failure.
var exitCodes = map[ErrorKind]int{
	ErrOther:       1,
	ErrUnreachable: 3,
	ErrAuth:        4,
	ErrNotActive:   5,
	ErrRefused:     6,
	ErrTimeout:     7,
	ErrProbe:       8,
}

func (k ErrorKind) String() string {
	switch k {
	case ErrUnreachable:
		return "unreachable"
	case ErrAuth:
		return "auth"
	case ErrNotActive:
		return "not active"
	case ErrRefused:
		return "refused"
	case ErrTimeout:
		return "timeout"
	case ErrProbe:
		return "probe"
	}
	return "error"
}

// Error is an operation's failure on one node.
type Error struct {
	Kind ErrorKind
	Node string // host:port, when the failure is one node's
	Err  error
	Hint string // what the operator can do about it
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Node != "" {
		msg = e.Node + ": " + msg
	}
	if e.Hint != "" {
		msg += "\n  " + e.Hint
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf is the kind of the first *Error in err's chain (ErrOther if none).
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ErrOther
}

// ExitCode maps an error to the exit status fluidb pair and watch use:
// 0 success, 1 other, 3 unreachable, 4 auth, 5 not active, 6 refused,
// 7 timeout, 8 probe failed.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	return exitCodes[KindOf(err)]
}

func errorf(kind ErrorKind, node, hint, format string, a ...any) *Error {
	return &Error{Kind: kind, Node: node, Err: fmt.Errorf(format, a...), Hint: hint}
}
