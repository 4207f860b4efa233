package metainfo

import (
	"bytes"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// maxStrLen caps any one bencode string. A .torrent is at most MaxSize bytes, so no string in
// it can be longer; the cap is tighter than the library's 128 MiB default.
const maxStrLen = MaxSize

func newDecoder(b []byte) *bencode.Decoder {
	d := bencode.NewDecoder(bytes.NewReader(b))
	d.MaxStrLen = maxStrLen
	return d
}

// decodeDict splits a raw bencoded dictionary into its keys and raw values. The whole input
// must be one dictionary with nothing after it.
func decodeDict(raw []byte, field string) (map[string]bencode.Bytes, error) {
	if len(raw) == 0 || raw[0] != 'd' {
		return nil, fieldErr(ErrInvalid, field, "not a dictionary")
	}
	d := newDecoder(raw)
	var m map[string]bencode.Bytes
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSyntax, field, err)
	}
	if d.Offset != int64(len(raw)) {
		return nil, fmt.Errorf("%w: %s: %d bytes of trailing data", ErrSyntax, field, int64(len(raw))-d.Offset)
	}
	return m, nil
}

// rawString decodes a raw bencode value that must be a string.
func rawString(raw []byte, field string) (string, error) {
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return "", fieldErr(ErrInvalid, field, "not a string")
	}
	start, n, err := stringHeader(raw, 0)
	if err != nil || start+n != len(raw) {
		return "", fieldErr(ErrSyntax, field, "bad string")
	}
	return string(raw[start:]), nil
}

// rawInt decodes a raw bencode value that must be an integer fitting int64.
func rawInt(raw []byte, field string) (int64, error) {
	if len(raw) < 2 || raw[0] != 'i' || raw[len(raw)-1] != 'e' {
		return 0, fieldErr(ErrInvalid, field, "not an integer")
	}
	n, err := parseDigits(raw[1 : len(raw)-1])
	if err != nil {
		return 0, fieldErr(ErrInvalid, field, "%v", err)
	}
	return n, nil
}

// forEachItem calls fn for each raw element of a bencoded list, refusing lists with more than
// max elements before looking at the rest, so a hostile list cannot make us allocate for it.
// Errors are *FieldError values whose Field starts with field.
func forEachItem(raw []byte, field string, max int, fn func(i int, item []byte) error) error {
	if len(raw) == 0 || raw[0] != 'l' {
		return fieldErr(ErrInvalid, field, "not a list")
	}
	if end, err := skipValue(raw, 0, 0); err != nil || end != len(raw) {
		return prefixErr(field, syntaxErr(err, end, len(raw)))
	}
	for i, pos := 0, 1; raw[pos] != 'e'; i++ {
		if i >= max {
			return fieldErr(ErrTooLarge, field, "more than %d entries", max)
		}
		end, _ := skipValue(raw, pos, 0) // already checked
		if err := fn(i, raw[pos:end]); err != nil {
			return err
		}
		pos = end
	}
	return nil
}

// stringList decodes a list of strings of at most max elements.
func stringList(raw []byte, field string, max int) ([]string, error) {
	out := []string{}
	err := forEachItem(raw, field, max, func(i int, item []byte) error {
		s, err := rawString(item, "")
		if err != nil {
			return prefixErr(fmt.Sprintf("%s[%d]", field, i), err)
		}
		out = append(out, s)
		return nil
	})
	return out, err
}
