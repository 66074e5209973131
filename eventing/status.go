package eventing

import (
	"context"
	"encoding/json"
	"slices"
)

// AppStatus is one function's entry of /api/v1/status (reference §1.4).
type AppStatus struct {
	CompositeStatus       string        `json:"composite_status"`
	Name                  string        `json:"name"`
	FunctionScope         FunctionScope `json:"function_scope"`
	NumBootstrappingNodes int           `json:"num_bootstrapping_nodes"`
	NumDeployedNodes      int           `json:"num_deployed_nodes"`
	DeploymentStatus      bool          `json:"deployment_status"`
	ProcessingStatus      bool          `json:"processing_status"`
	RedeployRequired      bool          `json:"redeploy_required"`
}

// StatusReport is the body of GET /api/v1/status.
type StatusReport struct {
	Apps             []AppStatus `json:"apps"`
	NumEventingNodes int         `json:"num_eventing_nodes"`
}

// FunctionStatusReport is the body of GET /api/v1/status/{name}.
type FunctionStatusReport struct {
	App              AppStatus `json:"app"`
	NumEventingNodes int       `json:"num_eventing_nodes"`
}

// eventingNodes returns the number of eventing nodes (1 without a Fleet).
func (s *Service) eventingNodes() int {
	if s.fleet == nil {
		return 1
	}
	return s.fleet.EventingNodes()
}

// appStatus builds one function's status entry.
func (s *Service) appStatus(cur *current, nodes int) AppStatus {
	status := cur.status()
	loc := cur.def.Location()
	t := targetOf(status)
	deployed := 0
	if s.fleet != nil {
		deployed = s.fleet.DeployedNodes(cur.rec.Name)
	} else if status == StatusDeployed || status == StatusPausing || status == StatusPaused || status == StatusUndeploying {
		deployed = 1
	}
	boot := 0
	switch status {
	case StatusDeploying:
		boot = max(nodes-deployed, 0)
	case StatusPausing, StatusUndeploying:
		boot = deployed
	}
	return AppStatus{
		CompositeStatus:       status,
		Name:                  loc.Name,
		FunctionScope:         loc.FunctionScope(),
		NumBootstrappingNodes: boot,
		NumDeployedNodes:      deployed,
		DeploymentStatus:      t.deploy,
		ProcessingStatus:      t.process,
	}
}

// Status reports every function's status, or only those named in locs
// (unknown ones are skipped, as Couchbase does for appNames).
func (s *Service) Status(locs []Location) StatusReport {
	nodes := s.eventingNodes()
	want := map[string]bool{}
	for _, l := range locs {
		want[l.String()] = true
	}
	rep := StatusReport{Apps: []AppStatus{}, NumEventingNodes: nodes}
	for _, cur := range s.records() {
		if len(locs) > 0 && !want[cur.rec.Name] {
			continue
		}
		rep.Apps = append(rep.Apps, s.appStatus(cur, nodes))
	}
	return rep
}

// FunctionStatus reports one function's status.
func (s *Service) FunctionStatus(loc Location) (FunctionStatusReport, error) {
	cur, err := s.mustRead(loc)
	if err != nil {
		return FunctionStatusReport{}, err
	}
	nodes := s.eventingNodes()
	return FunctionStatusReport{App: s.appStatus(cur, nodes), NumEventingNodes: nodes}, nil
}

// ListFilter selects functions for /api/v1/list/functions. Empty strings
// and nil pointers match everything.
type ListFilter struct {
	SourceBucket     string
	SourceScope      string
	SourceCollection string
	// FunctionType is "", "sbm" (writes its own source keyspace) or "notsbm".
	FunctionType string
	// Deployed selects deployed (paused counts as deployed) or undeployed.
	Deployed *bool
	// CurlBinding selects functions with or without curl bindings.
	CurlBinding *bool
}

// FunctionNames lists the location strings of the functions f selects.
func (s *Service) FunctionNames(f ListFilter) []string {
	out := []string{}
	for _, cur := range s.records() {
		d := cur.def
		src := d.DepCfg.Source()
		switch {
		case f.SourceBucket != "" && src.Bucket != f.SourceBucket,
			f.SourceScope != "" && f.SourceScope != Wildcard && src.Scope != f.SourceScope,
			f.SourceCollection != "" && f.SourceCollection != Wildcard && src.Collection != f.SourceCollection,
			f.FunctionType == "sbm" && !d.ReadWriteSource(),
			f.FunctionType == "notsbm" && d.ReadWriteSource(),
			f.Deployed != nil && targetOf(cur.status()).deploy != *f.Deployed,
			f.CurlBinding != nil && (len(d.DepCfg.Curl) > 0) != *f.CurlBinding:
			continue
		}
		out = append(out, cur.rec.Name)
	}
	return out
}

// GlobalConfig returns the global config (stored values over defaults).
func (s *Service) GlobalConfig() GlobalConfig {
	return s.globalConfig()
}

// SetGlobalConfig merges a partial config object into the global config
// and returns the keys that changed. Refuses disable_curl_binding while a
// deployed or paused function uses a curl binding.
func (s *Service) SetGlobalConfig(ctx context.Context, body []byte) ([]string, error) {
	s.configMu.Lock()
	defer s.configMu.Unlock()
	cfg := s.globalConfig()
	changed, e := configPatch(&cfg, body)
	if e != nil {
		return nil, e
	}
	if len(changed) == 0 {
		return changed, nil
	}
	if slices.Contains(changed, "disable_curl_binding") && cfg.DisableCurlBinding {
		for _, cur := range s.records() {
			if active(cur.status()) && len(cur.def.DepCfg.Curl) > 0 {
				return nil, newError(CodeInvalidRequest, "Few functions are using curl binding: function %s is %s with a curl binding", cur.rec.Name, cur.status())
			}
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, internalError(err, "cannot encode config")
	}
	if err := s.backend.SetConfig(ctx, GlobalConfigKey, raw); err != nil {
		return nil, backendError(err, "save config")
	}
	s.log.Info("global config changed", "keys", changed)
	return changed, nil
}
