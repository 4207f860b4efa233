package dht

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/anacrolix/torrent/bencode"
)

// maxStateSize bounds a saved table: 160 buckets of 8 nodes is about 50 KB.
const maxStateSize = 1 << 20

// State is what a node saves so that a restart needs no bootstrap: its id and its table.
type State struct {
	ID    ID
	Nodes []NodeInfo
}

type stateFile struct {
	ID     string `bencode:"id"`
	Nodes  string `bencode:"nodes"`
	Nodes6 string `bencode:"nodes6,omitempty"`
}

// State returns the node's id and the nodes of its table that are not bad.
func (n *Node) State() State { return State{ID: n.self, Nodes: n.Nodes()} }

// MarshalState bencodes s.
func MarshalState(s State) ([]byte, error) {
	v4, v6 := encodeNodes(s.Nodes)
	return bencode.Marshal(stateFile{ID: string(s.ID[:]), Nodes: v4, Nodes6: v6})
}

// UnmarshalState parses what MarshalState wrote.
func UnmarshalState(b []byte) (State, error) {
	var s State
	if len(b) > maxStateSize {
		return s, fmt.Errorf("dht state: %d bytes: %w", len(b), ErrMalformed)
	}
	d := bencode.NewDecoder(bytes.NewReader(b))
	d.MaxStrLen = maxStateSize
	var f stateFile
	if err := d.Decode(&f); err != nil {
		return s, fmt.Errorf("dht state: %w: %v", ErrMalformed, err)
	}
	if len(f.ID) != IDSize {
		return s, fmt.Errorf("dht state: id of %d bytes: %w", len(f.ID), ErrMalformed)
	}
	s.ID = ID([]byte(f.ID))
	v4, err := parseNodes(f.Nodes, 4)
	if err != nil {
		return s, fmt.Errorf("dht state: %w", err)
	}
	v6, err := parseNodes(f.Nodes6, 16)
	if err != nil {
		return s, fmt.Errorf("dht state: %w", err)
	}
	s.Nodes = append(v4, v6...)
	return s, nil
}

// SaveState writes s to path atomically (a temporary file renamed over it).
func SaveState(path string, s State) error {
	b, err := MarshalState(s)
	if err != nil {
		return fmt.Errorf("save dht state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dht-state-*")
	if err != nil {
		return fmt.Errorf("save dht state: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("save dht state: %w", err)
	}
	return nil
}

// LoadState reads a state saved by SaveState. A missing file returns an error wrapping
// os.ErrNotExist.
func LoadState(path string) (State, error) {
	f, err := os.Open(path)
	if err != nil {
		return State{}, fmt.Errorf("load dht state: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return State{}, fmt.Errorf("load dht state: %w", err)
	}
	return UnmarshalState(b)
}
