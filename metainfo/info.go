package metainfo

import (
	"fmt"
	"math"

	"github.com/anacrolix/torrent/bencode"
)

// parse decodes and validates the raw info dictionary.
func (in *Info) parse(raw []byte) error {
	d, err := decodeDict(raw, "info")
	if err != nil {
		return err
	}
	if err := in.parseScalars(d); err != nil {
		return err
	}
	if err := in.checkPieceCount(); err != nil {
		return err
	}
	if err := in.parseLayout(d); err != nil {
		return err
	}
	if err := in.checkPieces(); err != nil {
		return err
	}
	return checkKeyOrder(raw, "info")
}

// parseScalars decodes name, piece length, pieces, private and source.
func (in *Info) parseScalars(d map[string]bencode.Bytes) (err error) {
	if in.Name, err = requiredString(d, "name"); err != nil {
		return err
	}
	if err := checkComponent(in.Name, "info.name"); err != nil {
		return err
	}
	if in.PieceLength, err = requiredInt(d, "piece length"); err != nil {
		return err
	}
	if in.PieceLength <= 0 || in.PieceLength > MaxPieceLength {
		return fieldErr(ErrInvalid, "info.piece length", "%d out of range 1..%d", in.PieceLength, MaxPieceLength)
	}
	pieces, err := requiredString(d, "pieces")
	if err != nil {
		return err
	}
	in.Pieces = []byte(pieces)
	if raw, ok := d["private"]; ok {
		p, err := rawInt(raw, "info.private")
		if err != nil {
			return err
		}
		in.Private = p != 0
	}
	if raw, ok := d["source"]; ok {
		if in.Source, err = rawString(raw, "info.source"); err != nil {
			return err
		}
	}
	return nil
}

// parseLayout decodes length (single-file) or files (multi-file): exactly one must be present.
func (in *Info) parseLayout(d map[string]bencode.Bytes) error {
	rawLen, hasLen := d["length"]
	rawFiles, hasFiles := d["files"]
	switch {
	case hasLen && hasFiles:
		return fieldErr(ErrInvalid, "info", "has both length and files")
	case !hasLen && !hasFiles:
		return fieldErr(ErrMissing, "info", "has neither length nor files")
	case hasLen:
		n, err := rawInt(rawLen, "info.length")
		if err != nil {
			return err
		}
		if n < 0 {
			return fieldErr(ErrInvalid, "info.length", "negative (%d)", n)
		}
		in.Length = n
		return nil
	}
	if err := in.parseFiles(rawFiles); err != nil {
		return err
	}
	return checkFileTree(in.Files)
}

// parseFiles decodes the BEP 3 files list, checking the count cap before decoding entries and
// the running total for overflow. Field names are only formatted on the error path.
func (in *Info) parseFiles(raw []byte) error {
	in.Files = []File{}
	var total int64
	err := forEachItem(raw, "info.files", MaxFiles, func(i int, item []byte) error {
		f, err := parseFile(item)
		if err == nil && f.Length > math.MaxInt64-total {
			err = fieldErr(ErrInvalid, "length", "total length overflows")
		}
		if err != nil {
			return prefixErr(fmt.Sprintf("info.files[%d]", i), err)
		}
		total += f.Length
		in.Files = append(in.Files, f)
		return nil
	})
	if err != nil {
		return err
	}
	if len(in.Files) == 0 {
		return fieldErr(ErrInvalid, "info.files", "empty list")
	}
	return nil
}

// parseFile decodes one files entry; errors carry fields relative to the entry.
func parseFile(raw []byte) (File, error) {
	var lraw, praw []byte
	err := forEachEntry(raw, func(key string, val []byte) error {
		switch key {
		case "length":
			lraw = val
		case "path":
			praw = val
		}
		return nil
	})
	if err != nil {
		return File{}, err
	}
	if lraw == nil {
		return File{}, fieldErr(ErrMissing, "length", "missing")
	}
	n, err := rawInt(lraw, "length")
	if err != nil {
		return File{}, err
	}
	if n < 0 {
		return File{}, fieldErr(ErrInvalid, "length", "negative (%d)", n)
	}
	if praw == nil {
		return File{}, fieldErr(ErrMissing, "path", "missing")
	}
	path, err := stringList(praw, "path", maxPathComponents)
	if err != nil {
		return File{}, err
	}
	if err := checkPath(path, "path"); err != nil {
		return File{}, err
	}
	return File{Length: n, Path: path}, nil
}

// checkPieces checks that pieces holds one 20-byte hash per piece of the payload.
func (in *Info) checkPieces() error {
	if len(in.Pieces)%HashSize != 0 {
		return fieldErr(ErrPieces, "info.pieces", "length %d is not a multiple of %d", len(in.Pieces), HashSize)
	}
	total := in.TotalLength()
	if total == 0 && in.Files == nil {
		return fieldErr(ErrEmpty, "info.length", "0 bytes: the torrent holds no data to share")
	}
	if total == 0 {
		return fieldErr(ErrEmpty, "info.files", "%d files of 0 bytes: the torrent holds no data to share", len(in.Files))
	}
	want := total / in.PieceLength
	if total%in.PieceLength != 0 {
		want++
	}
	if got := int64(in.NumPieces()); got != want {
		return fieldErr(ErrPieces, "info.pieces", "%d hashes for %d bytes in pieces of %d (want %d)", got, total, in.PieceLength, want)
	}
	return nil
}

func requiredString(d map[string]bencode.Bytes, key string) (string, error) {
	raw, ok := d[key]
	if !ok {
		return "", fieldErr(ErrMissing, "info."+key, "missing")
	}
	return rawString(raw, "info."+key)
}

func requiredInt(d map[string]bencode.Bytes, key string) (int64, error) {
	raw, ok := d[key]
	if !ok {
		return 0, fieldErr(ErrMissing, "info."+key, "missing")
	}
	return rawInt(raw, "info."+key)
}
