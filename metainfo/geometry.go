package metainfo

import "path/filepath"

// FileEntry is one file of the payload laid out in torrent order: where it starts in the
// concatenated payload and where it goes on disk.
type FileEntry struct {
	// Path is relative to the download folder and starts with the torrent's name, in the
	// host's separator form (filepath.Join of name and components). Validation guarantees
	// filepath.IsLocal(Path).
	Path   string
	Length int64
	// Offset is the file's first byte in the concatenated payload.
	Offset int64
}

// IsMultiFile reports whether the payload is a folder of files.
func (in *Info) IsMultiFile() bool { return in.Files != nil }

// TotalLength is the payload size in bytes.
func (in *Info) TotalLength() int64 {
	if !in.IsMultiFile() {
		return in.Length
	}
	var n int64
	for _, f := range in.Files {
		n += f.Length
	}
	return n
}

// NumPieces is the number of pieces.
func (in *Info) NumPieces() int { return len(in.Pieces) / HashSize }

// PieceHash returns the expected SHA-1 of piece i.
func (in *Info) PieceHash(i int) []byte { return in.Pieces[i*HashSize : (i+1)*HashSize] }

// PieceSize returns the length of piece i: PieceLength except for a shorter last piece.
func (in *Info) PieceSize(i int) int64 {
	off := int64(i) * in.PieceLength
	if rest := in.TotalLength() - off; rest < in.PieceLength {
		return rest
	}
	return in.PieceLength
}

// FileEntries lays the files out in torrent order. A single-file torrent has one entry named
// after the torrent.
func (in *Info) FileEntries() []FileEntry {
	if !in.IsMultiFile() {
		return []FileEntry{{Path: in.Name, Length: in.Length}}
	}
	out := make([]FileEntry, 0, len(in.Files))
	var off int64
	for _, f := range in.Files {
		parts := append([]string{in.Name}, f.Path...)
		out = append(out, FileEntry{Path: filepath.Join(parts...), Length: f.Length, Offset: off})
		off += f.Length
	}
	return out
}
