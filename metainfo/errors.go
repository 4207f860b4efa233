package metainfo

import (
	"errors"
	"fmt"
)

// Sentinel errors for the cases callers branch on. Validation failures are *FieldError values
// that unwrap to one of these.
var (
	// ErrSyntax means the input is not well-formed bencode.
	ErrSyntax = errors.New("metainfo: malformed bencode")
	// ErrTooLarge means the input exceeds a cap (file size, file count, path depth).
	ErrTooLarge = errors.New("metainfo: too large")
	// ErrInvalid means a field has the wrong type or a value out of range.
	ErrInvalid = errors.New("metainfo: invalid field")
	// ErrMissing means a required field is absent.
	ErrMissing = errors.New("metainfo: missing field")
	// ErrUnsafePath means a file path could escape the download folder or is unusable.
	ErrUnsafePath = errors.New("metainfo: unsafe path")
	// ErrPieces means the pieces string does not match the payload geometry.
	ErrPieces = errors.New("metainfo: pieces do not match the payload")
	// ErrEmpty means the payload has no bytes, so no pieces: there is nothing to share, and
	// other clients (transmission-show, libtorrent) refuse such a torrent too.
	ErrEmpty = errors.New("metainfo: no data to share")
)

// FieldError reports a metainfo field that failed to decode or validate. Field is the path of
// the field inside the torrent, e.g. "info.files[3].path[0]". Err is the sentinel it unwraps to.
type FieldError struct {
	Field  string
	Reason string
	Err    error
}

// Error implements error.
func (e *FieldError) Error() string { return fmt.Sprintf("metainfo: %s: %s", e.Field, e.Reason) }

// Unwrap returns the sentinel, so errors.Is(err, ErrUnsafePath) works.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(sentinel error, field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}
