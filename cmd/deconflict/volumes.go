package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/deconflict/deconflict/geo"
)

// readVolumes reads volumes from a file holding either a JSON array of
// volumes (the API's form), one volume, an object {"volumes": [...]}, or GeoJSON: a
// Feature or FeatureCollection whose features are Polygons (first ring;
// [lng, lat] as GeoJSON has it) or Points with a radius_m property, each
// with properties alt_lo_m, alt_hi_m, start and end.
func readVolumes(path string) ([]geo.VolumeSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	if b[0] == '[' {
		var vs []geo.VolumeSpec
		if err := strict(&vs); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return vs, nil
	}
	var probe struct {
		Type    string          `json:"type"`
		Volumes json.RawMessage `json:"volumes"`
		Circle  json.RawMessage `json:"circle"`
		Polygon json.RawMessage `json:"polygon"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	switch probe.Type {
	case "":
		if probe.Circle != nil || probe.Polygon != nil { // one volume
			var v geo.VolumeSpec
			if err := strict(&v); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return []geo.VolumeSpec{v}, nil
		}
		var w struct {
			Volumes []geo.VolumeSpec `json:"volumes"`
		}
		if err := strict(&w); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return w.Volumes, nil
	case "Feature":
		var f feature
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		v, err := f.volume()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return []geo.VolumeSpec{v}, nil
	case "FeatureCollection":
		var fc struct {
			Features []feature `json:"features"`
		}
		if err := json.Unmarshal(b, &fc); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var out []geo.VolumeSpec
		for i, f := range fc.Features {
			v, err := f.volume()
			if err != nil {
				return nil, fmt.Errorf("%s: feature %d: %w", path, i, err)
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: GeoJSON type %q is not supported (use a Feature or a FeatureCollection)", path, probe.Type)
}

type feature struct {
	Geometry struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties struct {
		AltLoM  *float64  `json:"alt_lo_m"`
		AltHiM  *float64  `json:"alt_hi_m"`
		Start   time.Time `json:"start"`
		End     time.Time `json:"end"`
		RadiusM float64   `json:"radius_m"`
	} `json:"properties"`
}

func (f *feature) volume() (geo.VolumeSpec, error) {
	p := f.Properties
	if p.AltLoM == nil || p.AltHiM == nil {
		return geo.VolumeSpec{}, errors.New("properties need alt_lo_m, alt_hi_m, start and end")
	}
	v := geo.VolumeSpec{AltLoM: geo.Meters(*p.AltLoM), AltHiM: geo.Meters(*p.AltHiM), Start: p.Start, End: p.End}
	switch f.Geometry.Type {
	case "Point":
		var c [2]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &c); err != nil {
			return v, fmt.Errorf("point: %w", err)
		}
		v.Circle = &geo.CircleSpec{Lat: geo.Degrees(c[1]), Lng: geo.Degrees(c[0]), RadiusM: geo.Meters(p.RadiusM)}
	case "Polygon":
		var rings [][][2]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil {
			return v, fmt.Errorf("polygon: %w", err)
		}
		if len(rings) != 1 {
			return v, fmt.Errorf("polygon has %d rings; holes are not supported", len(rings))
		}
		for _, c := range rings[0] {
			v.Polygon = append(v.Polygon, [2]geo.Degrees{geo.Degrees(c[1]), geo.Degrees(c[0])})
		}
	default:
		return v, fmt.Errorf("geometry %q is not supported (use Polygon, or Point with radius_m)", f.Geometry.Type)
	}
	return v, nil
}
