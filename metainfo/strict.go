package metainfo

// Limits that match libtorrent's (2.0, load_torrent_limits), so that a .torrent we accept is
// one the reference client accepts too, and a hostile one cannot make us build a
// million-entry file table.
const (
	// maxPieces is libtorrent's max_pieces default (0x200000).
	maxPieces = 0x200000
)

// checkKeyOrder refuses an info dictionary whose keys are not in strictly increasing byte
// order, as BEP 3 requires. A duplicate key is the dangerous case: decoders disagree on which
// copy wins (the bencode library keeps the last `name`, libtorrent the first), so two
// clients would read two different torrents under one info-hash. Unsorted keys are refused
// with it: they mean a hand-made or tampered dictionary. The raw bytes are walked with the
// package's scanner; the values themselves are decoded elsewhere.
func checkKeyOrder(raw []byte, field string) error {
	prev, first := "", true
	return forEachEntry(raw, func(key string, _ []byte) error {
		switch {
		case first:
		case key == prev:
			return fieldErr(ErrInvalid, field, "duplicate key %q", key)
		case key < prev:
			return fieldErr(ErrInvalid, field, "keys not in sorted order: %q after %q", key, prev)
		}
		prev, first = key, false
		return nil
	})
}

// checkPieceCount refuses more pieces than libtorrent loads by default.
func (in *Info) checkPieceCount() error {
	if n := len(in.Pieces) / HashSize; n > maxPieces {
		return fieldErr(ErrTooLarge, "info.pieces", "%d pieces, limit %d", n, maxPieces)
	}
	return nil
}
