package mse

import "fmt"

// Policy is a user's encryption setting (--encryption).
type Policy uint8

// Policies. Off speaks only plain BitTorrent and is the zero value, so that a library user
// opts in; Prefer (swarm's default on the command line) tries MSE first and falls back to
// plain; Require speaks only MSE with RC4.
const (
	Off Policy = iota
	Prefer
	Require
)

// ParsePolicy parses "prefer", "require" or "off".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "prefer":
		return Prefer, nil
	case "require":
		return Require, nil
	case "off":
		return Off, nil
	}
	return 0, fmt.Errorf("mse: encryption policy %q: want prefer, require or off", s)
}

// String returns the name ParsePolicy accepts.
func (p Policy) String() string {
	switch p {
	case Prefer:
		return "prefer"
	case Require:
		return "require"
	case Off:
		return "off"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// Provide returns the methods an outgoing MSE handshake offers: both under Prefer (so a peer
// that allows only the obfuscated header still connects), RC4 alone under Require, none under
// Off.
func (p Policy) Provide() Method {
	switch p {
	case Prefer:
		return RC4 | Plaintext
	case Require:
		return RC4
	}
	return 0
}

// Responder returns the ResponderConfig fields for incoming connections: Prefer accepts
// everything (choosing plaintext after the MSE handshake when offered, RC4 when it is all the
// initiator offers), Require accepts only MSE with RC4, and Off accepts only plain handshakes.
func (p Policy) Responder() (allow Method, allowPlain bool) {
	switch p {
	case Prefer:
		return RC4 | Plaintext, true
	case Require:
		return RC4, false
	}
	return 0, true
}
