package handler

import (
	"fmt"

	"eventide/jsrt"
)

// CurlBinding is a curl binding of the function's definition
// (depcfg.curl[]); curl() itself is jsrt's.
type CurlBinding = jsrt.CurlBinding

// Authentication types of a curl binding (depcfg.curl[].auth_type).
const (
	CurlAuthNone   = jsrt.CurlAuthNone
	CurlAuthBasic  = jsrt.CurlAuthBasic
	CurlAuthBearer = jsrt.CurlAuthBearer
	CurlAuthDigest = jsrt.CurlAuthDigest
)

// normalizeCurlBindings validates curl bindings and fills their defaults.
// Their aliases share the namespace of the bucket and constant bindings.
func normalizeCurlBindings(in []CurlBinding) ([]CurlBinding, error) {
	out := make([]CurlBinding, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, b := range in {
		if err := ValidateAlias(b.Alias); err != nil {
			return nil, err
		}
		if seen[b.Alias] {
			return nil, fmt.Errorf("%w: curl alias %s is not unique", ErrInvalidBinding, b.Alias)
		}
		seen[b.Alias] = true
		nb, err := jsrt.ValidateCurlBinding(b)
		if err != nil {
			return nil, fmt.Errorf("%w: curl alias %s: %v", ErrInvalidBinding, b.Alias, err)
		}
		out = append(out, nb)
	}
	return out, nil
}

// curlStats are the execution stats of curl()'s outcomes.
var curlStats = [...]stat{
	jsrt.CurlGet:                 statCurlGet,
	jsrt.CurlPost:                statCurlPost,
	jsrt.CurlPut:                 statCurlPut,
	jsrt.CurlDelete:              statCurlDelete,
	jsrt.CurlHead:                statCurlHead,
	jsrt.CurlSuccess:             statCurlSuccess,
	jsrt.CurlNon200:              statCurlNon200,
	jsrt.CurlFailure:             statCurlFailure,
	jsrt.CurlTimeout:             statCurlTimeout,
	jsrt.CurlMaxRespSizeExceeded: statCurlMaxRespSizeExceeded,
}

// installCurl defines curl and a global per curl binding (jsrt's), with
// the function's response size limit, its language's URL encoding and its
// stats.
func (w *Worker) installCurl() error {
	cfg := jsrt.CurlConfig{
		Bindings:    w.p.curl,
		URLEncoding: jsrt.URLEncode720,
		Count:       func(s jsrt.CurlStat) { w.stats.inc(curlStats[s]) },
	}
	if w.lang < lang720 {
		cfg.URLEncoding = jsrt.URLEncode662
	}
	switch mb := w.p.settings.CurlMaxAllowedRespSize; {
	case mb < 0:
		cfg.MaxResponseSize = -1
	case mb == 0:
		cfg.MaxResponseSize = DefaultCurlMaxAllowedRespSize << 20
	default:
		cfg.MaxResponseSize = int64(mb) << 20
	}
	return w.rt.InstallCurl(cfg)
}
