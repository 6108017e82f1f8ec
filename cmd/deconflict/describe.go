package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/deconflict/deconflict/registry"
	"github.com/deconflict/deconflict/server"
)

// describe says in one line what a party was shown of another's intent.
func describe(it server.IntentView) string {
	var b strings.Builder
	fmt.Fprintf(&b, "intent %s of %s (grant: %s), ovn %s", it.ID, it.Owner, it.Level, it.OVN)
	if it.Priority != nil {
		fmt.Fprintf(&b, ", priority %d, %s, %d volume(s)", *it.Priority, it.State, len(it.Volumes))
	}
	if len(it.PreemptedBy) > 0 {
		fmt.Fprintf(&b, ", preempted by %s", strings.Join(idStrings(it.PreemptedBy), ", "))
	}
	if len(it.Details) > 0 {
		fmt.Fprintf(&b, ", details %s", it.Details)
	}
	for _, o := range it.Overlaps {
		fmt.Fprintf(&b, "; overlap: %d cell(s) of level %d, %g-%g m, %s-%s", len(o.Cells), o.CellLevel,
			o.AltLoM, o.AltHiM, o.Start.Format(time.RFC3339), o.End.Format(time.RFC3339))
	}
	return b.String()
}

// volumesJSON lists the extents of the volumes a view shows, one per line.
func volumesJSON(it server.IntentView) []string {
	var out []string
	for k, v := range it.Volumes {
		b, _ := json.Marshal(v)
		out = append(out, fmt.Sprintf("[%d] %s", k, b))
	}
	return out
}

func idStrings(ids []registry.IntentID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}
