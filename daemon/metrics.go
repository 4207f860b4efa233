package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
)

// collector exports the registry's figures at scrape time, so nothing is kept twice and a
// removed torrent's series disappear with it.
type collector struct {
	d                                           *Daemon
	downloaded, uploaded, downRate, upRate      *prometheus.Desc
	peers, pieces, have, size, state            *prometheus.Desc
	totalDown, totalUp, totalTorrents, totPeers *prometheus.Desc
}

func newCollector(d *Daemon) *collector {
	l := []string{"info_hash", "name"}
	desc := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("swarm_"+name, help, labels, nil)
	}
	return &collector{
		d:             d,
		downloaded:    desc("torrent_downloaded_bytes_total", "Piece payload downloaded, across restarts.", l),
		uploaded:      desc("torrent_uploaded_bytes_total", "Piece payload uploaded, across restarts.", l),
		downRate:      desc("torrent_download_rate_bytes", "Download rate over the last seconds.", l),
		upRate:        desc("torrent_upload_rate_bytes", "Upload rate over the last seconds.", l),
		peers:         desc("torrent_peers", "Connected peers.", l),
		pieces:        desc("torrent_pieces", "Pieces in the torrent.", l),
		have:          desc("torrent_pieces_verified", "Verified pieces.", l),
		size:          desc("torrent_size_bytes", "Payload size.", l),
		state:         desc("torrent_state", "1 for the torrent's current state.", append(l, "state")),
		totalDown:     desc("downloaded_bytes_total", "Piece payload downloaded by every torrent.", nil),
		totalUp:       desc("uploaded_bytes_total", "Piece payload uploaded by every torrent.", nil),
		totalTorrents: desc("torrents", "Torrents in the daemon.", nil),
		totPeers:      desc("peers", "Connected peers over every torrent.", nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.downloaded, c.uploaded, c.downRate, c.upRate, c.peers, c.pieces, c.have, c.size, c.state, c.totalDown, c.totalUp, c.totalTorrents, c.totPeers} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	var tot Totals
	for _, s := range c.d.List() {
		l := []string{s.InfoHash, s.Name}
		ch <- prometheus.MustNewConstMetric(c.downloaded, prometheus.CounterValue, float64(s.Downloaded), l...)
		ch <- prometheus.MustNewConstMetric(c.uploaded, prometheus.CounterValue, float64(s.Uploaded), l...)
		ch <- prometheus.MustNewConstMetric(c.downRate, prometheus.GaugeValue, s.DownRate, l...)
		ch <- prometheus.MustNewConstMetric(c.upRate, prometheus.GaugeValue, s.UpRate, l...)
		ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(s.Peers), l...)
		ch <- prometheus.MustNewConstMetric(c.pieces, prometheus.GaugeValue, float64(s.NumPieces), l...)
		ch <- prometheus.MustNewConstMetric(c.have, prometheus.GaugeValue, float64(s.Have), l...)
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(s.Size), l...)
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, 1, append(l, string(s.State))...)
		tot.Torrents++
		tot.Downloaded += s.Downloaded
		tot.Uploaded += s.Uploaded
		tot.Peers += s.Peers
	}
	ch <- prometheus.MustNewConstMetric(c.totalDown, prometheus.CounterValue, float64(tot.Downloaded))
	ch <- prometheus.MustNewConstMetric(c.totalUp, prometheus.CounterValue, float64(tot.Uploaded))
	ch <- prometheus.MustNewConstMetric(c.totalTorrents, prometheus.GaugeValue, float64(tot.Torrents))
	ch <- prometheus.MustNewConstMetric(c.totPeers, prometheus.GaugeValue, float64(tot.Peers))
}
