package qinling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"eventide/consensus"
)

// Job statuses. A job fires while running; done (its count is spent or
// its one shot fired) and cancelled are final.
const (
	JobRunning   = "running"
	JobPaused    = "paused"
	JobDone      = "done"
	JobCancelled = "cancelled"
)

// Job runs a function (or an alias's version) asynchronously at
// NextExecutionTime, then again at each later time of its cron Pattern,
// Count times (nil: without end). A job without a pattern fires once, at
// its first execution time.
type Job struct {
	ID                 string     `json:"id"`
	Name               NullString `json:"name"`
	FunctionID         NullString `json:"function_id"`
	FunctionAlias      NullString `json:"function_alias"`
	FunctionVersion    int        `json:"function_version"`
	FunctionInput      NullString `json:"function_input"`
	Pattern            NullString `json:"pattern"`
	Count              *int       `json:"count"`
	Status             string     `json:"status"`
	FirstExecutionTime Time       `json:"first_execution_time"`
	NextExecutionTime  Time       `json:"next_execution_time"`
	ProjectID          string     `json:"project_id"`
	CreatedAt          Time       `json:"created_at"`
	UpdatedAt          Time       `json:"updated_at"`
}

// JobSpec creates a job. A Pattern (a cron expression: five fields, or a
// descriptor such as @hourly or @every 10m) or a FirstExecutionTime (UTC
// unless it names a zone; at least Config.JobMinLead ahead) is required;
// Count above 1 needs a Pattern. FunctionInput is the input as it came
// (see ExecutionSpec.Input).
type JobSpec struct {
	Name               string
	FunctionID         string
	FunctionAlias      string
	FunctionVersion    int
	FunctionInput      json.RawMessage
	Pattern            string
	FirstExecutionTime string
	Count              *int
}

// JobUpdate changes the fields that are set: Status to running, paused or
// cancelled; a Pattern (only of a job that has one); the
// NextExecutionTime (at least Config.JobMinLead ahead). FunctionInput
// nil or null leaves the input as it is.
type JobUpdate struct {
	Name              *string
	FunctionInput     json.RawMessage
	Pattern           *string
	NextExecutionTime *string
	Status            *string
}

// jobTimeLayouts are the first and next execution times accepted, without
// a zone (UTC) or with one.
var jobTimeLayouts = []string{
	TimeFormat, "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
	time.RFC3339Nano,
}

// parseJobTime reads an execution time, to the second, in UTC.
func parseJobTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, l := range jobTimeLayouts {
		if t, err := time.ParseInLocation(l, v, time.UTC); err == nil {
			return t.UTC().Truncate(time.Second), nil
		}
	}
	return time.Time{}, badRequest("%s %q is not a time: use YYYY-MM-DD HH:MM:SS (UTC)", field, v)
}

// checkLead refuses an execution time less than JobMinLead ahead, as
// Qinling does (it keeps a job from firing before its creator sees it).
func (s *Service) checkLead(t time.Time) error {
	if t.Before(s.now().Add(s.cfg.JobMinLead)) {
		return badRequest("execution time must be at least %s in the future", leadText(s.cfg.JobMinLead))
	}
	return nil
}

func leadText(d time.Duration) string {
	if d == time.Minute {
		return "1 minute"
	}
	return d.String()
}

// parsePattern parses a cron pattern with robfig/cron's standard parser
// (minute, hour, day of month, month, day of week; or a descriptor). A
// pattern that never fires is refused too.
func parsePattern(p string, now time.Time) (cron.Schedule, error) {
	if len(p) > maxField {
		return nil, badRequest("pattern is longer than %d bytes", maxField)
	}
	sched, err := cron.ParseStandard(p)
	if err != nil {
		return nil, badRequest("the specified pattern is not valid: %s: %v", p, err)
	}
	if sched.Next(now).IsZero() {
		return nil, badRequest("the specified pattern is not valid: %s never fires", p)
	}
	return sched, nil
}

// jobSchedule is a stored job's schedule; nil for a one-shot job (or a
// pattern that no longer parses, which then fires no more).
func jobSchedule(j Job) cron.Schedule {
	if j.Pattern == "" {
		return nil
	}
	sched, err := cron.ParseStandard(string(j.Pattern))
	if err != nil {
		return nil
	}
	return sched
}

// jobTarget checks what a job runs, as the caller sees it (404 when the
// function, its version or the alias is not found, as Qinling answers),
// and returns guards of those records, so that the job's creation fails if
// they are deleted meanwhile.
func (s *Service) jobTarget(c Caller, j *Job) ([]consensus.RecordChange, error) {
	if j.FunctionAlias != "" {
		a, ver, err := s.alias(c, string(j.FunctionAlias))
		if err != nil {
			return nil, err
		}
		// Qinling keeps no function id on an alias's job: each firing runs
		// the version the alias names then.
		j.FunctionID, j.FunctionVersion = "", 0
		return []consensus.RecordChange{guard(tableAliases, aliasID(c.ProjectID, a.Name), ver, a)}, nil
	}
	if j.FunctionVersion < 0 {
		return nil, badRequest("function_version must not be negative")
	}
	f, fver, err := s.function(c, string(j.FunctionID))
	if err != nil {
		return nil, err
	}
	guards := []consensus.RecordChange{guard(tableFunctions, f.ID, fver, f)}
	if j.FunctionVersion > 0 {
		if f.Code.Source != SourcePackage {
			return nil, badRequest("can not specify version for %s type function", f.Code.Source)
		}
		v, vver, err := s.version(f, j.FunctionVersion)
		if err != nil {
			return nil, err
		}
		guards = append(guards, guard(tableVersions, versionID(f.ID, j.FunctionVersion), vver, v))
	}
	return guards, nil
}

// CreateJob creates a running job, validated as Qinling validates it: a
// pattern or a first execution time; the first time at least
// Config.JobMinLead ahead; a count above 1 only with a pattern. Without a
// pattern the job fires once (count 1). With both, the first firing is the
// pattern's first time from a minute before the first execution time.
func (s *Service) CreateJob(ctx context.Context, c Caller, spec JobSpec) (Job, error) {
	if err := checkCaller(c); err != nil {
		return Job{}, err
	}
	if err := checkField("name", spec.Name, false); err != nil {
		return Job{}, err
	}
	if spec.FunctionID == "" && spec.FunctionAlias == "" {
		return Job{}, badRequest("either function_alias or function_id must be provided")
	}
	now := s.now()
	pattern, first := strings.TrimSpace(spec.Pattern), strings.TrimSpace(spec.FirstExecutionTime)
	if pattern == "" && first == "" {
		return Job{}, badRequest("pattern or first_execution_time must be specified")
	}
	count := spec.Count
	if count != nil && *count < 0 {
		return Job{}, badRequest("count must not be negative")
	}
	var firstTime, next time.Time
	if first != "" {
		t, err := parseJobTime("first_execution_time", first)
		if err != nil {
			return Job{}, err
		}
		if err := s.checkLead(t); err != nil {
			return Job{}, err
		}
		if pattern == "" && count != nil && *count > 1 {
			return Job{}, badRequest("pattern must be provided if count is greater than 1")
		}
		if pattern == "" && (count == nil || *count == 0) {
			one := 1
			count = &one
		}
		firstTime, next = t, t
	}
	if pattern != "" {
		sched, err := parsePattern(pattern, now)
		if err != nil {
			return Job{}, err
		}
		from := now
		if !firstTime.IsZero() {
			from = firstTime.Add(-time.Minute)
		}
		next = sched.Next(from)
		firstTime = next
	}
	_, input, err := normalizeInput(spec.FunctionInput)
	if err != nil {
		return Job{}, badRequest("function_input: %v", strings.TrimPrefix(err.Error(), "qinling: "))
	}
	j := Job{
		ID:                 uuid.NewString(),
		Name:               NullString(spec.Name),
		FunctionID:         NullString(spec.FunctionID),
		FunctionAlias:      NullString(spec.FunctionAlias),
		FunctionVersion:    spec.FunctionVersion,
		FunctionInput:      jobInput(spec.FunctionInput, input),
		Pattern:            NullString(pattern),
		Count:              count,
		Status:             JobRunning,
		FirstExecutionTime: Time{firstTime},
		NextExecutionTime:  Time{next},
		ProjectID:          c.ProjectID,
		CreatedAt:          Time{now},
	}
	guards, err := s.jobTarget(c, &j)
	if err != nil {
		return Job{}, err
	}
	if _, err := s.write(ctx, append(guards, putChange(tableJobs, j.ID, 0, j))...); err != nil {
		return Job{}, err
	}
	return j, nil
}

// jobInput is the function_input a job keeps: the text as it came when it
// came as a JSON string (as the openstack client sends it), else the
// compact JSON.
func jobInput(raw, compact json.RawMessage) NullString {
	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		return NullString(text)
	}
	return NullString(compact)
}

// ListJobs lists jobs by creation time.
func (s *Service) ListJobs(ctx context.Context, c Caller, opts ListOptions) ([]Job, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	var out []Job
	for _, j := range listRecs[Job](s, tableJobs, "") {
		if inList(c, opts, j.ProjectID) {
			out = append(out, j)
		}
	}
	sortByCreated(out, func(j Job) (Time, string) { return j.CreatedAt, j.ID })
	return out, nil
}

func (s *Service) job(c Caller, id string) (Job, uint64, error) {
	j, ver, err := getRec[Job](s, tableJobs, id, "job")
	if err != nil {
		return Job{}, 0, err
	}
	if !visible(c, j.ProjectID) {
		return Job{}, 0, notFound("job", id)
	}
	return j, ver, nil
}

// GetJob returns one job.
func (s *Service) GetJob(ctx context.Context, c Caller, id string) (Job, error) {
	if err := checkCaller(c); err != nil {
		return Job{}, err
	}
	j, _, err := s.job(c, id)
	return j, err
}

// jobRetries is how often an update or delete is retried when the job
// changed under it (a firing advanced it): the change is recomputed from
// the new record, as the caller meant it for the job, not for a version.
const jobRetries = 5

// UpdateJob changes a job, as Qinling does: a finished job cannot change;
// a one-shot job cannot get a pattern nor a recurring one lose it; status
// may be set to running, paused or cancelled; a paused job resumed without
// a next execution time fires next at its pattern's next time from now
// (a one-shot job keeps its time, which must still be far enough ahead).
// Unlike Qinling, a new pattern of a running job also moves its next
// execution time to the new pattern's next time from now, unless the
// update sets one.
func (s *Service) UpdateJob(ctx context.Context, c Caller, id string, u JobUpdate) (Job, error) {
	if err := checkCaller(c); err != nil {
		return Job{}, err
	}
	for attempt := 1; ; attempt++ {
		j, ver, err := s.job(c, id)
		if err != nil {
			return Job{}, err
		}
		if err := s.applyJobUpdate(&j, u); err != nil {
			return Job{}, err
		}
		_, err = s.write(ctx, putChange(tableJobs, id, ver, j))
		if errors.Is(err, ErrConflict) && attempt < jobRetries {
			continue
		}
		if err != nil {
			return Job{}, err
		}
		return j, nil
	}
}

func (s *Service) applyJobUpdate(j *Job, u JobUpdate) error {
	if j.Status == JobDone || j.Status == JobCancelled {
		return badRequest("can not update a finished job")
	}
	now := s.now()
	if u.Name != nil {
		if err := checkField("name", *u.Name, false); err != nil {
			return err
		}
		j.Name = NullString(*u.Name)
	}
	if raw := strings.TrimSpace(string(u.FunctionInput)); raw != "" && raw != "null" {
		_, input, err := normalizeInput(u.FunctionInput)
		if err != nil {
			return badRequest("function_input: %v", strings.TrimPrefix(err.Error(), "qinling: "))
		}
		j.FunctionInput = jobInput(u.FunctionInput, input)
	}
	var sched cron.Schedule
	if u.Pattern != nil {
		p := strings.TrimSpace(*u.Pattern)
		if (p == "") != (j.Pattern == "") {
			return badRequest("can not change job type")
		}
		if p != "" {
			var err error
			if sched, err = parsePattern(p, now); err != nil {
				return err
			}
			j.Pattern = NullString(p)
		}
	}
	status := j.Status
	if u.Status != nil {
		switch *u.Status {
		case JobRunning, JobPaused, JobCancelled:
			status = *u.Status
		default:
			return badRequest("invalid status %q: a job's status may be set to %s, %s or %s", *u.Status, JobRunning, JobPaused, JobCancelled)
		}
	}
	switch {
	case u.NextExecutionTime != nil && strings.TrimSpace(*u.NextExecutionTime) != "":
		t, err := parseJobTime("next_execution_time", *u.NextExecutionTime)
		if err != nil {
			return err
		}
		if err := s.checkLead(t); err != nil {
			return err
		}
		j.NextExecutionTime = Time{t}
	case j.Status == JobPaused && status == JobRunning:
		if cur := jobSchedule(*j); cur != nil {
			j.NextExecutionTime = Time{cur.Next(now)}
		} else if err := s.checkLead(j.NextExecutionTime.Time); err != nil {
			return err
		}
	case sched != nil && status == JobRunning:
		j.NextExecutionTime = Time{sched.Next(now)}
	}
	j.Status = status
	j.UpdatedAt = Time{now}
	return nil
}

// DeleteJob deletes a job; the executions it made stay.
func (s *Service) DeleteJob(ctx context.Context, c Caller, id string) error {
	if err := checkCaller(c); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		_, ver, err := s.job(c, id)
		if err != nil {
			return err
		}
		_, err = s.write(ctx, deleteChange(tableJobs, id, ver))
		if errors.Is(err, ErrConflict) && attempt < jobRetries {
			continue
		}
		return err
	}
}

// activeJobUsing returns an unfinished job that runs function fid (at
// version n when n >= 0) or, when alias is set, alias of project p: what
// keeps those from being deleted.
func (s *Service) activeJobUsing(fid string, n int, p, alias string) (Job, bool) {
	for _, j := range listRecs[Job](s, tableJobs, "") {
		if j.Status == JobDone || j.Status == JobCancelled {
			continue
		}
		if alias != "" {
			if j.ProjectID == p && string(j.FunctionAlias) == alias {
				return j, true
			}
			continue
		}
		if j.FunctionAlias == "" && string(j.FunctionID) == fid && (n < 0 || j.FunctionVersion == n) {
			return j, true
		}
	}
	return Job{}, false
}

// Firing.
//
// A firing is decided once for the cluster, by the leader, up to
// JobLookahead before it is due: one batch advances the job, conditional
// on the version of the job record that was read, creates its execution
// record, running on the executor chosen for it and to start at the due
// time, and the firing record that tells the executor so. Two schedulers
// (an old leader and a new one) that read the same due job race on that
// version and only one batch applies. The executor starts the firing on
// its own clock (RunFirings), so a firing due while the cluster elects a
// new leader starts on time. If the executor dies before or during the
// run, the execution stays running on a dead node and FailOrphans ends it
// failed: at most once per firing, and never lost silently.

// jobFireParallel bounds the firings one FireDueJobs makes at once.
const jobFireParallel = 16

// FireDueJobs decides every running job's firing that is due within
// JobLookahead, and returns how many it decided and when the next firing
// is to be decided (zero: none). Only the leader calls it (RunJobs); a
// firing that lost the race to another scheduler is not counted and not
// an error. A firing whose function cannot run is recorded as a failed
// execution.
//
// A job that missed firings (the cluster had no leader at its due time)
// fires once, late, and then moves to its pattern's next time after now:
// missed periods are not replayed one by one (Qinling's job handler would
// replay each, one per poll).
func (s *Service) FireDueJobs(ctx context.Context) (int, time.Time, error) {
	now := s.now()
	horizon := s.cfg.Now().Add(s.cfg.JobLookahead)
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		fired int
		errs  []error
		next  time.Time
	)
	earliest := func(due time.Time) {
		t := due.Add(-s.cfg.JobLookahead)
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	sem := make(chan struct{}, jobFireParallel)
	for _, sj := range s.scheduledJobs() {
		j := sj.job
		if j.Status != JobRunning {
			continue
		}
		if j.NextExecutionTime.After(horizon) {
			mu.Lock()
			earliest(j.NextExecutionTime.Time)
			mu.Unlock()
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(j Job, ver uint64) {
			defer func() { <-sem; wg.Done() }()
			adv, ok, err := s.fireJob(ctx, j, ver, now)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("job %s: %w", j.ID, err))
			}
			if ok {
				fired++
				if adv.Status == JobRunning {
					earliest(adv.NextExecutionTime.Time)
				}
			}
		}(j, sj.version)
	}
	wg.Wait()
	if len(errs) > 0 {
		return fired, next, fmt.Errorf("qinling: fire jobs: %w", errors.Join(errs...))
	}
	return fired, next, nil
}

// scheduledJob is a decoded job record and the version it was decoded
// from.
type scheduledJob struct {
	version uint64
	job     Job
}

// scheduledJobs decodes every job record, reusing the records decoded at
// the same version before: the leader scans the jobs at every burst of
// record changes, and most changes are of other tables.
func (s *Service) scheduledJobs() []scheduledJob {
	rs := s.rec.Records(tableJobs)
	out := make([]scheduledJob, 0, len(rs))
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]scheduledJob, len(rs))
	for _, r := range rs {
		sj, ok := s.jobCache[r.ID]
		if !ok || sj.version != r.Version {
			var j Job
			if err := json.Unmarshal(r.Body, &j); err != nil {
				s.log.Warn("undecodable job record skipped", "id", r.ID, "err", err)
				continue
			}
			sj = scheduledJob{version: r.Version, job: j}
		}
		next[r.ID] = sj
		out = append(out, sj)
	}
	s.jobCache = next
	return out
}

// advanceJob returns j after one firing decided at now: count down (when
// counted), done when the count is spent or the job has no pattern, else
// the pattern's next time after the firing's due time, or after now when
// that too has passed.
func advanceJob(j Job, now time.Time) Job {
	if j.Count != nil && *j.Count > 0 {
		c := *j.Count - 1
		j.Count = &c
	}
	j.UpdatedAt = Time{now}
	sched := jobSchedule(j)
	if (j.Count != nil && *j.Count == 0) || sched == nil {
		// Qinling leaves next_execution_time at the last firing.
		j.Status = JobDone
		return j
	}
	next := sched.Next(j.NextExecutionTime.Time)
	if !next.After(now) {
		next = sched.Next(now)
	}
	if next.IsZero() {
		j.Status = JobDone
		return j
	}
	j.NextExecutionTime = Time{next}
	return j
}

// executor picks the node that runs a firing: the executors in turn,
// this node (the leader) only when it is the only one.
func (s *Service) executor() string {
	var ids []string
	if s.cfg.Executors != nil {
		for _, id := range s.cfg.Executors() {
			if id != s.cfg.NodeID {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return s.cfg.NodeID
	}
	slices.Sort(ids)
	return ids[s.rr.Add(1)%uint64(len(ids))]
}

// fireJob decides the firing of job j read at version ver: one batch
// advances the job and creates its execution and firing records. ok is
// false when the job changed meanwhile (another scheduler fired it, or it
// was updated or deleted): nothing was fired.
func (s *Service) fireJob(ctx context.Context, j Job, ver uint64, now time.Time) (Job, bool, error) {
	adv := advanceJob(j, now)
	due := j.NextExecutionTime.Time
	if due.Before(now) {
		due = now // late: it starts at once
	}
	owner := Caller{ProjectID: j.ProjectID}
	rec := executionRec{
		Execution: Execution{
			ID:              uuid.NewString(),
			FunctionID:      string(j.FunctionID),
			FunctionVersion: j.FunctionVersion,
			Description:     NullString("Created by Job " + j.ID),
			Input:           j.FunctionInput,
			Status:          ExecutionRunning,
			ProjectID:       j.ProjectID,
			CreatedAt:       Time{due},
		},
		NodeID:  s.executor(),
		StartAt: due,
	}
	r, err := s.resolve(owner, string(j.FunctionID), string(j.FunctionAlias), j.FunctionVersion)
	if err == nil {
		rec.FunctionID, rec.FunctionVersion = r.f.ID, r.n
		raw, _ := json.Marshal(string(j.FunctionInput))
		_, _, err = normalizeInput(raw)
	}
	changes := []consensus.RecordChange{putChange(tableJobs, j.ID, ver, adv)}
	if err != nil {
		// The firing happens and says why its function could not run.
		reason := fmt.Sprintf("job %s could not run its function: %s", j.ID, strings.TrimPrefix(err.Error(), "qinling: "))
		rec.Status, rec.Result, rec.UpdatedAt = ExecutionFailed, NullString(failureResult(reason)), Time{now}
		rec.NodeID, rec.StartAt = s.cfg.NodeID, time.Time{}
		changes = append(changes, putChange(tableExecutions, rec.ID, 0, rec),
			consensus.RecordChange{Table: tableLogs, ID: rec.ID, Body: []byte(reason + "\n")})
		if _, err := s.rec.PutRecords(ctx, changes...); err != nil {
			if lostRace(err) {
				return j, false, nil
			}
			return j, false, err
		}
		s.log.Warn("job fired, its function could not run", "job", j.ID, "execution", rec.ID, "reason", reason)
		return adv, true, nil
	}
	changes = append(changes, putChange(tableExecutions, rec.ID, 0, rec), firingChange(rec))
	if _, err := s.rec.PutRecords(ctx, changes...); err != nil {
		// A lost race decided nothing. Any other error leaves the outcome
		// unknown: if the batch applied, its executor runs the firing and
		// the job's record moved on, so nothing fires it twice.
		if lostRace(err) {
			return j, false, nil
		}
		return j, false, err
	}
	return adv, true, nil
}

// lostRace reports whether a write failed on its conditions: another
// writer changed the records first.
func lostRace(err error) bool {
	return errors.Is(err, consensus.ErrRecordVersion) || errors.Is(err, consensus.ErrRecordNotFound) || errors.Is(err, consensus.ErrRecordExists)
}

// Scheduler timing.
const (
	// jobIdlePoll is how often a node that does not lead checks whether it
	// leads now.
	jobIdlePoll = 50 * time.Millisecond
	// jobMaxSleep bounds the leader's sleep with no job due sooner.
	jobMaxSleep = 5 * time.Second
	// jobChangeSettle gathers a burst of record changes (executions write
	// many) into one scan of the jobs.
	jobChangeSettle = 20 * time.Millisecond
	// jobErrorPause keeps a failing firing from spinning.
	jobErrorPause = 500 * time.Millisecond
)

// RunJobs is the cron scheduler: while leading() says this node leads, it
// fires the due jobs (FireDueJobs), sleeping until the earliest next
// execution time or a change of the records (a job created or updated
// through any node). It returns when ctx ends.
func (s *Service) RunJobs(ctx context.Context, leading func() bool) {
	for {
		wait := jobIdlePoll
		var changed <-chan struct{}
		if leading() {
			// Taken before the scan, so no change after it is missed.
			changed = s.rec.RecordsChanged()
			wait = jobMaxSleep
			n, next, err := s.FireDueJobs(ctx)
			if n > 0 {
				s.log.Debug("jobs fired", "count", n)
			}
			if !next.IsZero() {
				wait = min(wait, max(next.Sub(s.cfg.Now()), 0))
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("firing jobs", "err", err)
				wait = jobErrorPause
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-changed:
			t.Stop()
			select {
			case <-ctx.Done():
				return
			case <-time.After(jobChangeSettle):
			}
		}
	}
}

// errJobsUsing is the 403 for deleting what an unfinished job runs.
func errJobsUsing(what string, j Job) error {
	return errorf(http.StatusForbidden, "%s is still associated with running job %s", what, j.ID)
}
