package qinling

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"eventide/consensus"
)

// webhookView sets the URL from this node's advertised address: any node
// serves every webhook.
func (s *Service) webhookView(w Webhook) Webhook {
	w.WebhookURL = strings.TrimRight(s.cfg.WebhookBaseURL, "/") + "/v1/webhooks/" + w.ID + "/invoke"
	return w
}

// webhookTarget validates what a webhook runs: an alias of the caller's
// project, or a function version; it returns guards of those records.
func (s *Service) webhookTarget(c Caller, w *Webhook) ([]consensus.RecordChange, error) {
	if w.FunctionAlias != "" {
		a, ver, err := s.alias(c, string(w.FunctionAlias))
		if err != nil {
			return nil, badRequest("alias %s not found", w.FunctionAlias)
		}
		w.FunctionID, w.FunctionVersion = a.FunctionID, a.FunctionVersion
		return []consensus.RecordChange{guard(tableAliases, aliasID(c.ProjectID, a.Name), ver, a)}, nil
	}
	_, guards, err := s.target(c, w.FunctionID, w.FunctionVersion)
	return guards, err
}

// CreateWebhook creates a webhook.
func (s *Service) CreateWebhook(ctx context.Context, c Caller, spec WebhookSpec) (Webhook, error) {
	if err := checkCaller(c); err != nil {
		return Webhook{}, err
	}
	if err := checkField("description", spec.Description, false); err != nil {
		return Webhook{}, err
	}
	if spec.FunctionAlias == "" && spec.FunctionID == "" {
		return Webhook{}, badRequest("either function_alias or function_id must be provided")
	}
	w := Webhook{
		ID:              uuid.NewString(),
		FunctionID:      spec.FunctionID,
		FunctionVersion: spec.FunctionVersion,
		FunctionAlias:   NullString(spec.FunctionAlias),
		Description:     NullString(spec.Description),
		ProjectID:       c.ProjectID,
		CreatedAt:       Time{s.now()},
	}
	guards, err := s.webhookTarget(c, &w)
	if err != nil {
		return Webhook{}, err
	}
	if _, err := s.write(ctx, append(guards, putChange(tableWebhooks, w.ID, 0, w))...); err != nil {
		return Webhook{}, err
	}
	return s.webhookView(w), nil
}

// ListWebhooks lists webhooks.
func (s *Service) ListWebhooks(ctx context.Context, c Caller, opts ListOptions) ([]Webhook, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	var out []Webhook
	for _, w := range listRecs[Webhook](s, tableWebhooks, "") {
		if inList(c, opts, w.ProjectID) {
			out = append(out, s.webhookView(w))
		}
	}
	sortByCreated(out, func(w Webhook) (Time, string) { return w.CreatedAt, w.ID })
	return out, nil
}

func (s *Service) webhook(c Caller, id string) (Webhook, uint64, error) {
	w, ver, err := getRec[Webhook](s, tableWebhooks, id, "webhook")
	if err != nil {
		return Webhook{}, 0, err
	}
	if !visible(c, w.ProjectID) {
		return Webhook{}, 0, notFound("webhook", id)
	}
	return w, ver, nil
}

// GetWebhook returns one webhook.
func (s *Service) GetWebhook(ctx context.Context, c Caller, id string) (Webhook, error) {
	if err := checkCaller(c); err != nil {
		return Webhook{}, err
	}
	w, _, err := s.webhook(c, id)
	if err != nil {
		return Webhook{}, err
	}
	return s.webhookView(w), nil
}

// UpdateWebhook changes a webhook. Setting FunctionAlias to "" with a
// FunctionID moves it from an alias to a function version.
func (s *Service) UpdateWebhook(ctx context.Context, c Caller, id string, u WebhookUpdate) (Webhook, error) {
	if err := checkCaller(c); err != nil {
		return Webhook{}, err
	}
	w, ver, err := s.webhook(c, id)
	if err != nil {
		return Webhook{}, err
	}
	if u.Description != nil {
		if err := checkField("description", *u.Description, false); err != nil {
			return Webhook{}, err
		}
		w.Description = NullString(*u.Description)
	}
	var guards []consensus.RecordChange
	if u.FunctionAlias != nil || u.FunctionID != nil || u.FunctionVersion != nil {
		if u.FunctionAlias != nil {
			w.FunctionAlias = NullString(*u.FunctionAlias)
		} else if u.FunctionID != nil {
			w.FunctionAlias = ""
		}
		if u.FunctionID != nil {
			w.FunctionID = *u.FunctionID
		}
		if u.FunctionVersion != nil {
			w.FunctionVersion = *u.FunctionVersion
		}
		owner := Caller{ProjectID: w.ProjectID, Admin: c.Admin}
		if guards, err = s.webhookTarget(owner, &w); err != nil {
			return Webhook{}, err
		}
	}
	w.UpdatedAt = Time{s.now()}
	if _, err := s.write(ctx, append(guards, putChange(tableWebhooks, id, ver, w))...); err != nil {
		return Webhook{}, err
	}
	return s.webhookView(w), nil
}

// DeleteWebhook deletes a webhook.
func (s *Service) DeleteWebhook(ctx context.Context, c Caller, id string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	_, ver, err := s.webhook(c, id)
	if err != nil {
		return err
	}
	if _, err := s.write(ctx, deleteChange(tableWebhooks, id, ver)); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.limiters, id)
	s.mu.Unlock()
	return nil
}

// limiter returns the webhook's rate limiter on this node.
func (s *Service) limiter(id string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limiters[id]
	if l == nil {
		l = rate.NewLimiter(s.cfg.WebhookRate, s.cfg.WebhookBurst)
		s.limiters[id] = l
	}
	return l
}

// InvokeWebhook runs the webhook's function asynchronously in the
// webhook's project with body (JSON, or empty for none) as input and
// returns the execution's id; no credentials are needed. 404 for an
// unknown webhook, 429 beyond the webhook's rate on this node.
func (s *Service) InvokeWebhook(ctx context.Context, id string, body []byte) (string, error) {
	w, _, err := getRec[Webhook](s, tableWebhooks, id, "webhook")
	if err != nil {
		return "", err
	}
	if !s.limiter(id).Allow() {
		return "", errorf(http.StatusTooManyRequests, "webhook %s is invoked faster than %v per second", id, s.cfg.WebhookRate)
	}
	var input json.RawMessage
	if len(strings.TrimSpace(string(body))) > 0 {
		if !json.Valid(body) {
			// Not JSON: the function gets the text.
			input, _ = json.Marshal(string(body))
		} else {
			input = body
		}
	}
	owner := Caller{ProjectID: w.ProjectID}
	sync := false
	e, err := s.execute(ctx, owner, ExecutionSpec{
		FunctionID:      w.FunctionID,
		FunctionAlias:   string(w.FunctionAlias),
		FunctionVersion: w.FunctionVersion,
		Description:     "Created by Webhook " + w.ID,
		Sync:            &sync,
		Input:           input,
	})
	if err != nil {
		return "", err
	}
	return e.ID, nil
}
