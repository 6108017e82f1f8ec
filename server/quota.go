package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/deconflict/deconflict/geo"
	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/service"
)

// Anti-probing quotas, per party over the last hour: the footprint area ×
// duration it files (km²·h), and how many other parties' intents its
// refused filings were shown. Sweeping volumes filed to learn where others
// fly hit the first; repeated refusals the second (and every refusal
// alerts the owners shown).
const (
	DefaultQuotaAreaTime   = 50_000_000 // km²·h per hour: about three of the largest volumes (100,000 km² for 7 days)
	DefaultQuotaDisclosure = 1_000      // intents shown per hour
)

type usage struct {
	at     time.Time
	amount float64
}

type quotas struct {
	areaTime, disclosures float64 // limits; <= 0: none
	mu                    sync.Mutex
	filed, shown          map[registry.PartyID][]usage
}

func newQuotas(areaTime, disclosures float64) *quotas {
	return &quotas{areaTime: areaTime, disclosures: disclosures,
		filed: map[registry.PartyID][]usage{}, shown: map[registry.PartyID][]usage{}}
}

// window drops the usages older than an hour and returns the sum of the
// rest and when the oldest of them leaves the window.
func window(us []usage, now time.Time) ([]usage, float64, time.Time) {
	i := 0
	for i < len(us) && now.Sub(us[i].at) >= time.Hour {
		i++
	}
	us = us[i:]
	var sum float64
	for _, u := range us {
		sum += u.amount
	}
	var frees time.Time
	if len(us) > 0 {
		frees = us[0].at.Add(time.Hour)
	}
	return us, sum, frees
}

func overQuota(what string, used, limit float64, frees, now time.Time) error {
	retry := max(1, int(math.Ceil(frees.Sub(now).Seconds())))
	return &Problem{Type: TypeRateLimited, Title: "quota exceeded", Status: http.StatusTooManyRequests,
		Detail:     fmt.Sprintf("%s: %.0f used of %.0f in the last hour; retry in %d s", what, used, limit, retry),
		retryAfter: strconv.Itoa(retry)}
}

// fileAreaTime is the footprint area × duration of volumes, in km²·h.
func fileAreaTime(vols []*geo.Volume) float64 {
	var sum float64
	for _, v := range vols {
		sum += v.Area() / 1e6 * v.End().Sub(v.Start()).Hours()
	}
	return sum
}

// checkQuota refuses a filing or update over the party's quotas, and
// counts what it files.
func (s *Server) checkQuota(cmd service.Command) error {
	var vols []*geo.Volume
	switch {
	case cmd.Entry.File != nil:
		vols = cmd.Entry.File.Volumes
	case cmd.Entry.Update != nil:
		vols = cmd.Entry.Update.Volumes
	default:
		return nil
	}
	q, p, now := s.quotas, cmd.Entry.Party, s.cfg.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.disclosures > 0 {
		us, used, frees := window(q.shown[p], now)
		q.shown[p] = us
		if used >= q.disclosures {
			return overQuota("intents of other parties shown to you by refused filings", used, q.disclosures, frees, now)
		}
	}
	if q.areaTime > 0 {
		at := fileAreaTime(vols)
		us, used, frees := window(q.filed[p], now)
		q.filed[p] = us
		if at > q.areaTime {
			return &Problem{Type: TypeRateLimited, Title: "quota exceeded", Status: http.StatusTooManyRequests,
				Detail:     fmt.Sprintf("this request files %.0f km²·h, more than the hourly quota of %.0f on its own: file smaller or shorter volumes", at, q.areaTime),
				retryAfter: "3600"}
		}
		if used+at > q.areaTime {
			return overQuota(fmt.Sprintf("filed area × time (km²·h; this request %.0f)", at), used, q.areaTime, frees, now)
		}
		q.filed[p] = addUsage(q.filed[p], now, at)
	}
	return nil
}

// disclosed counts n intents shown to party by a refusal.
func (q *quotas) disclosed(p registry.PartyID, n int, now time.Time) {
	if q.disclosures <= 0 || n == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shown[p] = addUsage(q.shown[p], now, float64(n))
}

// addUsage records amount at now, merged into the last record if that is
// less than a minute old, so a party keeps at most about 60 records.
func addUsage(us []usage, now time.Time, amount float64) []usage {
	if n := len(us); n > 0 && now.Sub(us[n-1].at) < time.Minute {
		us[n-1].amount += amount
		return us
	}
	return append(us, usage{at: now, amount: amount})
}
