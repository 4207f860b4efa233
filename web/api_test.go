package web

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/daemon"
	"github.com/swarm-bt/swarm/metainfo"
)

// sha1Of makes a stable fake info-hash for a magnet link nobody serves.
func sha1Of(s string) metainfo.Hash { return metainfo.Hash(sha1.Sum([]byte(s))) }

// TestEveryCall drives each API call once, with the status and body it must give.
func TestEveryCall(t *testing.T) {
	e := newEnv(t, Config{})
	mi, raw := testTorrent(t, "every.bin")
	ih := mi.InfoHash.String()
	auth := []func(*http.Request){bearer, csrf, jsonCT}

	// add (JSON), then list and get
	resp := e.req(t, http.MethodPost, "/api/v1/torrents", addBody(t, raw, ""), auth...)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	st := decode[daemon.Status](t, resp)
	assert.Equal(t, ih, st.InfoHash)
	assert.Equal(t, filepath.Join(e.dir, "downloads"), st.SaveDir)
	resp = e.req(t, http.MethodPost, "/api/v1/torrents", addBody(t, raw, ""), auth...)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)

	resp = e.req(t, http.MethodGet, "/api/v1/torrents", nil, bearer)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	require.Len(t, list, 1)
	for _, k := range []string{"info_hash", "name", "progress", "state"} {
		assert.Contains(t, list[0], k)
	}
	resp = e.req(t, http.MethodGet, "/api/v1/torrents/"+ih, nil, bearer)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "every.bin", decode[daemon.Status](t, resp).Name)
	assert.Equal(t, http.StatusNotFound, e.req(t, http.MethodGet, "/api/v1/torrents/"+strings.Repeat("ab", 20), nil, bearer).StatusCode)
	assert.Equal(t, http.StatusNotFound, e.req(t, http.MethodGet, "/api/v1/torrents/xyz", nil, bearer).StatusCode)

	// add by multipart upload into a sub-folder of the download folder; add by magnet
	mi2, raw2 := testTorrent(t, "upload.bin")
	sub := filepath.Join(e.dir, "downloads", "sub")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("torrent", "upload.torrent")
	require.NoError(t, err)
	_, _ = fw.Write(raw2)
	require.NoError(t, mw.WriteField("save_dir", sub))
	require.NoError(t, mw.WriteField("paused", "true"))
	require.NoError(t, mw.Close())
	resp = e.req(t, http.MethodPost, "/api/v1/torrents", &buf, bearer, csrf, header("Content-Type", mw.FormDataContentType()))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	st2 := decode[daemon.Status](t, resp)
	assert.Equal(t, sub, st2.SaveDir)
	assert.Equal(t, mi2.InfoHash.String(), st2.InfoHash)
	resp = e.req(t, http.MethodPost, "/api/v1/torrents", strings.NewReader(`{"magnet":"`+mi.Magnet()+`"}`), auth...)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "the same info-hash by magnet")
	mg := metainfo.Magnet{InfoHash: sha1Of("magnet.bin"), Name: "magnet.bin"}.String()
	resp = e.req(t, http.MethodPost, "/api/v1/torrents", strings.NewReader(`{"magnet":"`+mg+`","paused":true}`), auth...)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	st3 := decode[daemon.Status](t, resp)
	assert.Equal(t, "magnet.bin", st3.Name)
	assert.Equal(t, daemon.StatePaused, st3.State)
	for _, bad := range []string{`{"magnet":"magnet:?xt=urn:btih:nothex"}`, `{"torrent":"!!"}`, `{"torrent":"ZGU="}`, `{}`, `{"bogus":1}`, `not json`} {
		resp = e.req(t, http.MethodPost, "/api/v1/torrents", strings.NewReader(bad), auth...)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
	}
	resp = e.req(t, http.MethodPost, "/api/v1/torrents", strings.NewReader("x"), bearer, csrf, header("Content-Type", "text/plain"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	waitState(t, e, ih, daemon.StateDownloading) // no peers: it stays downloading

	// files, peers, pieces, choke
	resp = e.req(t, http.MethodGet, "/api/v1/torrents/"+ih+"/files", nil, bearer)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	files := decode[[]daemon.File](t, resp)
	require.Len(t, files, 1)
	assert.Equal(t, "every.bin", files[0].Path)
	assert.Equal(t, int64(100<<10), files[0].Length)
	resp = e.req(t, http.MethodGet, "/api/v1/torrents/"+ih+"/peers", nil, bearer)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, decode[[]daemon.Peer](t, resp))
	resp = e.req(t, http.MethodGet, "/api/v1/torrents/"+ih+"/pieces", nil, bearer)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	pcs := decode[daemon.Pieces](t, resp)
	assert.Equal(t, 7, pcs.NumPieces)
	assert.Len(t, pcs.Availability, 7)
	assert.Equal(t, "AA==", pcs.Have) // 7 pieces, none verified: one zero byte
	resp = e.req(t, http.MethodGet, "/api/v1/torrents/"+ih+"/choke", nil, bearer)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// pause, resume, recheck
	for _, c := range []struct {
		action string
		want   daemon.State
	}{{"pause", daemon.StatePaused}, {"resume", daemon.StateDownloading}, {"recheck", daemon.StateDownloading}} {
		resp = e.req(t, http.MethodPost, "/api/v1/torrents/"+ih+"/"+c.action, nil, bearer, csrf)
		require.Equal(t, http.StatusOK, resp.StatusCode, c.action)
		waitState(t, e, ih, c.want)
	}
	assert.GreaterOrEqual(t, e.req(t, http.MethodGet, "/api/v1/torrents/"+ih+"/pause", nil, bearer).StatusCode, 400, "a GET never changes state")

	// limits and settings
	resp = e.req(t, http.MethodPut, "/api/v1/torrents/"+ih+"/limits", strings.NewReader(`{"up_rate":1000,"down_rate":2000,"seed_ratio":2,"seed_time":3600}`), auth...)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, daemon.Limits{UpRate: 1000, DownRate: 2000, SeedRatio: 2, SeedTime: daemon.Duration(time.Hour)}, decode[daemon.Status](t, resp).Limits)
	resp = e.req(t, http.MethodPut, "/api/v1/torrents/"+ih+"/limits", strings.NewReader(`{"up_rate":-1}`), auth...)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp = e.req(t, http.MethodPut, "/api/v1/settings", strings.NewReader(`{"up_rate":5000,"down_rate":0,"max_active_downloads":1,"seed_ratio":1.5,"seed_time":60}`), auth...)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp = e.req(t, http.MethodGet, "/api/v1/settings", nil, bearer)
	assert.Equal(t, daemon.Settings{UpRate: 5000, MaxActiveDownloads: 1, SeedRatio: 1.5, SeedTime: daemon.Duration(time.Minute)}, decode[daemon.Settings](t, resp))
	resp = e.req(t, http.MethodGet, "/api/v1/stats", nil, bearer)
	assert.Equal(t, 3, decode[daemon.Totals](t, resp).Torrents)

	// the event stream
	resp = e.req(t, http.MethodGet, "/api/v1/events?torrent="+ih, nil, bearer)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	br := bufio.NewReader(resp.Body)
	name, data := readEvent(t, br)
	assert.Equal(t, "torrents", name)
	var ov overview
	require.NoError(t, json.Unmarshal(data, &ov))
	assert.Len(t, ov.Torrents, 3)
	name, data = readEvent(t, br)
	assert.Equal(t, "torrent", name)
	var dt detail
	require.NoError(t, json.Unmarshal(data, &dt))
	assert.Equal(t, ih, dt.Status.InfoHash)
	name, _ = readEvent(t, br) // the next tick
	assert.Equal(t, "torrents", name)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, e.req(t, http.MethodGet, "/api/v1/events?torrent="+strings.Repeat("cd", 20), nil, bearer).StatusCode)

	// metrics
	resp = e.req(t, http.MethodGet, "/metrics", nil, bearer)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var mb bytes.Buffer
	_, _ = mb.ReadFrom(resp.Body)
	assert.Contains(t, mb.String(), `swarm_torrent_size_bytes{info_hash="`+ih+`",name="every.bin"} 102400`)
	assert.Contains(t, mb.String(), "swarm_torrents 3")

	// remove, keeping then deleting the data
	path := filepath.Join(e.dir, "downloads", "every.bin")
	if _, err := os.Stat(path); err != nil { // storage creates files at their first write
		require.NoError(t, os.WriteFile(path, []byte("partial"), 0o644))
	}
	for _, other := range []string{mi2.InfoHash.String(), st3.InfoHash} {
		resp = e.req(t, http.MethodDelete, "/api/v1/torrents/"+other, nil, bearer, csrf)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	resp = e.req(t, http.MethodDelete, "/api/v1/torrents/"+ih+"?delete_data=maybe", nil, bearer, csrf)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp = e.req(t, http.MethodDelete, "/api/v1/torrents/"+ih+"?delete_data=true", nil, bearer, csrf)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Equal(t, http.StatusNotFound, e.req(t, http.MethodDelete, "/api/v1/torrents/"+ih, nil, bearer, csrf).StatusCode)
	assert.Empty(t, e.d.List())
}

func waitState(t *testing.T, e *env, ih string, want daemon.State) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := e.d.Get(ih)
		require.NoError(t, err)
		if st.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %s, want %s", st.State, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPageServed(t *testing.T) {
	e := newEnv(t, Config{})
	resp := e.req(t, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	assert.Contains(t, b.String(), `<script src="/static/app.js">`)
	for _, attr := range []string{`src="http`, `href="http`, `src="//`, `href="//`} {
		assert.NotContains(t, b.String(), attr, "the page loads nothing from elsewhere")
	}
	for _, p := range []string{"/static/app.js", "/static/style.css"} {
		assert.Equal(t, http.StatusOK, e.req(t, http.MethodGet, p, nil).StatusCode, p)
	}
}
