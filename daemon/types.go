package daemon

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
)

// Sentinel errors that callers (the web API) branch on.
var (
	// ErrNotFound: no torrent has that info-hash.
	ErrNotFound = errors.New("daemon: no such torrent")
	// ErrExists: the torrent is already in the daemon.
	ErrExists = errors.New("daemon: torrent already added")
	// ErrDirNotAllowed: the save folder is outside every allowed root.
	ErrDirNotAllowed = errors.New("daemon: save folder not allowed")
	// ErrBadInput: the torrent, magnet link or setting is malformed.
	ErrBadInput = errors.New("daemon: bad input")
	// ErrUnsupported: the request needs a feature this build does not have yet.
	ErrUnsupported = errors.New("daemon: not supported")
	// ErrClosed: the daemon has stopped.
	ErrClosed = errors.New("daemon: closed")
)

// State is where a torrent stands.
type State string

// Torrent states.
const (
	StateChecking    State = "checking"    // verifying what is on disk
	StateQueued      State = "queued"      // waiting for a download slot
	StateDownloading State = "downloading" // running, pieces missing
	StateSeeding     State = "seeding"     // running, complete
	StatePaused      State = "paused"      // stopped by the user
	StateFinished    State = "finished"    // complete and stopped by a seed limit
	StateError       State = "error"       // stopped by an error (see Status.Error)
)

// Limits are one torrent's settings. Rates are bytes per second, 0 = no limit of its own (the
// global limit still applies). SeedRatio and SeedTime 0 mean the global setting; negative
// means seed without that limit.
type Limits struct {
	UpRate    int64    `json:"up_rate"`
	DownRate  int64    `json:"down_rate"`
	SeedRatio float64  `json:"seed_ratio"`
	SeedTime  Duration `json:"seed_time"`
}

// Settings are the daemon-wide settings, all changeable while it runs.
type Settings struct {
	UpRate   int64 `json:"up_rate"`   // global upload limit, bytes/s, 0 = unlimited
	DownRate int64 `json:"down_rate"` // global download limit, bytes/s, 0 = unlimited
	// MaxActiveDownloads bounds torrents downloading at once; the rest wait queued. 0 = no limit.
	MaxActiveDownloads int `json:"max_active_downloads"`
	// SeedRatio stops seeding once uploaded/size reaches it; 0 = no limit.
	SeedRatio float64 `json:"seed_ratio"`
	// SeedTime stops seeding after this long complete; 0 = no limit.
	SeedTime Duration `json:"seed_time"`
}

// Duration is a time.Duration that reads and writes JSON as seconds.
type Duration time.Duration

// MarshalJSON writes whole seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(time.Duration(d)/time.Second), 10), nil
}

// UnmarshalJSON reads seconds (a JSON number).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

// Status is a snapshot of one torrent, as the list shows it.
type Status struct {
	InfoHash   string    `json:"info_hash"`
	Name       string    `json:"name"`
	State      State     `json:"state"`
	Error      string    `json:"error,omitempty"`
	SaveDir    string    `json:"save_dir"`
	Size       int64     `json:"size"`
	Progress   float64   `json:"progress"` // verified fraction, 0..1
	Have       int       `json:"have"`
	NumPieces  int       `json:"num_pieces"`
	PieceSize  int64     `json:"piece_size"`
	Downloaded int64     `json:"downloaded"` // since added, across restarts
	Uploaded   int64     `json:"uploaded"`
	DownRate   float64   `json:"down_rate"`
	UpRate     float64   `json:"up_rate"`
	ETA        int64     `json:"eta"` // seconds to completion; -1 unknown, 0 done
	Ratio      float64   `json:"ratio"`
	Peers      int       `json:"peers"`
	Seeds      int       `json:"seeds"` // connected peers that have every piece
	QueuePos   int       `json:"queue_pos"`
	AddedAt    time.Time `json:"added_at"`
	DoneAt     time.Time `json:"completed_at,omitzero"`
	SeedTime   Duration  `json:"seeding_time"`
	Limits     Limits    `json:"limits"`
	Private    bool      `json:"private"`
	Magnet     string    `json:"magnet"`
	Tracker    string    `json:"tracker_error,omitempty"`
	// Metadata tells how fetching a magnet link's metadata goes (state metadata only).
	Metadata *MetadataProgress `json:"metadata,omitempty"`
}

// MetadataProgress is the state of a magnet link's metadata fetch.
type MetadataProgress struct {
	Peers    int `json:"peers"`    // connected
	Offering int `json:"offering"` // peers that have the metadata
	Have     int `json:"have"`     // 16 KiB metadata pieces received
	Total    int `json:"total"`    // 0 until a peer gives the size
}

// File is one file of a torrent with its progress.
type File struct {
	Path     string  `json:"path"`
	Length   int64   `json:"length"`
	Offset   int64   `json:"offset"`
	Progress float64 `json:"progress"` // verified fraction of its pieces, 0..1
}

// Totals add up every torrent.
type Totals struct {
	Torrents   int     `json:"torrents"`
	Downloaded int64   `json:"downloaded"`
	Uploaded   int64   `json:"uploaded"`
	DownRate   float64 `json:"down_rate"`
	UpRate     float64 `json:"up_rate"`
	Peers      int     `json:"peers"`
}
