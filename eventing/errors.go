package eventing

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// Code is one entry of Couchbase Eventing's error table: the stable name and
// number clients match on, and the HTTP status the REST layer answers with.
// A *Code is itself an error, so errors.Is(err, CodeAppNotFoundTS) works on
// any *Error that carries it.
type Code struct {
	// Name is the stable identifier, e.g. "ERR_APP_NOT_FOUND_TS".
	Name string
	// Number is the numeric code carried in bodies and the "status" header.
	Number int
	// HTTPStatus is the status the REST layer replies with.
	HTTPStatus int
	// Attributes are static hints such as "retry".
	Attributes []string
}

// Error implements error.
func (c *Code) Error() string { return "eventing: " + c.Name }

// The error table (Couchbase 8.x numbering; see reference §1.3). Every error
// the Service returns carries one of these.
var (
	// CodeDelAppPS: deleting a function from the primary store failed.
	CodeDelAppPS = &Code{"ERR_DEL_APP_PS", 1, http.StatusInternalServerError, nil}
	// CodeDelAppTS: deleting a function from the temporary store failed.
	CodeDelAppTS = &Code{"ERR_DEL_APP_TS", 2, http.StatusInternalServerError, nil}
	// CodeSaveAppPS: saving a function to the primary store failed.
	CodeSaveAppPS = &Code{"ERR_SAVE_APP_PS", 5, http.StatusInternalServerError, []string{"retry"}}
	// CodeSaveAppTS: saving a function to the temporary store failed.
	CodeSaveAppTS = &Code{"ERR_SAVE_APP_TS", 6, http.StatusInternalServerError, []string{"retry"}}
	// CodeSetSettingsPS: saving settings failed.
	CodeSetSettingsPS = &Code{"ERR_SET_SETTINGS_PS", 7, http.StatusInternalServerError, nil}
	// CodeDelAppSettingsPS: deleting settings failed.
	CodeDelAppSettingsPS = &Code{"ERR_DEL_APP_SETTINGS_PS", 11, http.StatusInternalServerError, nil}
	// CodeAppNotDeployed: the function is not deployed (e.g. undeploy of an
	// undeployed function).
	CodeAppNotDeployed = &Code{"ERR_APP_NOT_DEPLOYED", 12, http.StatusNotAcceptable, nil}
	// CodeAppNotFoundTS: no function of that name.
	CodeAppNotFoundTS = &Code{"ERR_APP_NOT_FOUND_TS", 13, http.StatusNotFound, nil}
	// CodeMarshalResp: a response could not be encoded.
	CodeMarshalResp = &Code{"ERR_MARSHAL_RESP", 14, http.StatusInternalServerError, nil}
	// CodeReadReq: the request body could not be read.
	CodeReadReq = &Code{"ERR_READ_REQ", 15, http.StatusBadRequest, nil}
	// CodeUnmarshalPld: the request body is not valid JSON of the expected shape.
	CodeUnmarshalPld = &Code{"ERR_UNMARSHAL_PLD", 16, http.StatusBadRequest, nil}
	// CodeSrcMbSame: the source keyspace equals the metadata keyspace.
	CodeSrcMbSame = &Code{"ERR_SRC_MB_SAME", 17, http.StatusUnprocessableEntity, nil}
	// CodeAppAlreadyDeployed: the function is already deployed.
	CodeAppAlreadyDeployed = &Code{"ERR_APP_ALREADY_DEPLOYED", 20, http.StatusUnprocessableEntity, nil}
	// CodeAppNotBootstrapped: the function is in a transitional state or not
	// running, so the operation cannot proceed now.
	CodeAppNotBootstrapped = &Code{"ERR_APP_NOT_BOOTSTRAPPED", 21, http.StatusLocked, nil}
	// CodeAppNotUndeployed: the operation needs an undeployed function.
	CodeAppNotUndeployed = &Code{"ERR_APP_NOT_UNDEPLOYED", 22, http.StatusUnprocessableEntity, nil}
	// CodeStatusesNotFound: deployment_status/processing_status missing.
	CodeStatusesNotFound = &Code{"ERR_PROCESSING_OR_DEPLOYMENT_STATUS_NOT_FOUND", 23, http.StatusBadRequest, nil}
	// CodeBucketTypeCheck: the bucket type cannot be used.
	CodeBucketTypeCheck = &Code{"ERR_BUCKET_TYPE_CHECK", 25, http.StatusUnprocessableEntity, nil}
	// CodeBucketMemcached: memcached buckets cannot be used.
	CodeBucketMemcached = &Code{"ERR_BUCKET_MEMCACHED", 26, http.StatusUnprocessableEntity, nil}
	// CodeHandlerCompilation: the handler code does not compile.
	CodeHandlerCompilation = &Code{"ERR_HANDLER_COMPILATION", 27, http.StatusUnprocessableEntity, nil}
	// CodeAppNameMismatch: the body's appname differs from the URL's name.
	CodeAppNameMismatch = &Code{"ERR_APPNAME_MISMATCH", 29, http.StatusUnprocessableEntity, nil}
	// CodeSaveConfig: saving the global config failed.
	CodeSaveConfig = &Code{"ERR_SAVE_CONFIG", 33, http.StatusBadRequest, nil}
	// CodeGetConfig: reading the global config failed.
	CodeGetConfig = &Code{"ERR_GET_CONFIG", 34, http.StatusInternalServerError, nil}
	// CodeGetRebalanceStatus: the rebalance status is unavailable.
	CodeGetRebalanceStatus = &Code{"ERR_GET_REBALANCE_STATUS", 35, http.StatusInternalServerError, nil}
	// CodeRebalanceOngoing: a rebalance or failover is in progress.
	CodeRebalanceOngoing = &Code{"ERR_REBALANCE_OR_FAILOVER_ONGOING", 36, http.StatusNotAcceptable, nil}
	// CodeInvalidConfig: a setting or config value is of the wrong type or
	// out of range.
	CodeInvalidConfig = &Code{"ERR_INVALID_CONFIG", 38, http.StatusBadRequest, nil}
	// CodeAppCodeSize: the handler code exceeds function_size.
	CodeAppCodeSize = &Code{"ERR_APPCODE_SIZE", 39, http.StatusBadRequest, nil}
	// CodeBucketMissing: a referenced bucket does not exist.
	CodeBucketMissing = &Code{"ERR_BUCKET_MISSING", 41, http.StatusBadRequest, nil}
	// CodeClusterVersion: the cluster version does not support the request.
	CodeClusterVersion = &Code{"ERR_CLUSTER_VERSION", 42, http.StatusNotAcceptable, nil}
	// CodeDebuggerDisabled: the debugger is disabled.
	CodeDebuggerDisabled = &Code{"ERR_DEBUGGER_DISABLED", 45, http.StatusBadRequest, nil}
	// CodeMixedMode: lifecycle operations are refused in a mixed-version cluster.
	CodeMixedMode = &Code{"ERR_MIXED_MODE", 46, http.StatusNotAcceptable, nil}
	// CodeBucketAccess: a binding's access is neither "r" nor "rw".
	CodeBucketAccess = &Code{"ERR_BUCKET_ACCESS", 49, http.StatusBadRequest, nil}
	// CodeInterFunctionRecursion: two deployed functions would write each
	// other's source keyspace.
	CodeInterFunctionRecursion = &Code{"ERR_INTER_FUNCTION_RECURSION", 50, http.StatusBadRequest, nil}
	// CodeInterBucketRecursion: deploying would close a cycle of keyspaces.
	CodeInterBucketRecursion = &Code{"ERR_INTER_BUCKET_RECURSION", 51, http.StatusBadRequest, nil}
	// CodeUnsupportedSyncGateway: Sync Gateway coexistence is not supported.
	CodeUnsupportedSyncGateway = &Code{"ERR_UNSUPPORTED_SYNC_GATEWAY", 52, http.StatusBadRequest, nil}
	// CodeAppNotFound: lifecycle operation on a missing function (8.x name;
	// eventide answers CodeAppNotFoundTS, which every client understands).
	CodeAppNotFound = &Code{"ERR_APP_NOT_FOUND", 53, http.StatusBadRequest, nil}
	// CodeMetakvWriteFailed: the replicated write failed.
	CodeMetakvWriteFailed = &Code{"ERR_METAKV_WRITE_FAILED", 54, http.StatusInternalServerError, nil}
	// CodeRequestedOpFailed: the requested operation failed.
	CodeRequestedOpFailed = &Code{"ERR_REQUESTED_OP_FAILED", 55, http.StatusBadRequest, nil}
	// CodeCollectionMissing: a referenced scope or collection does not exist.
	CodeCollectionMissing = &Code{"ERR_COLLECTION_MISSING", 56, http.StatusBadRequest, nil}
	// CodeMagmaBackend: magma buckets are not supported.
	CodeMagmaBackend = &Code{"ERR_MAGMA_BACKEND", 58, http.StatusBadRequest, nil}
	// CodeInternal: an unexpected server-side failure; the client may retry.
	CodeInternal = &Code{"INTERNAL_SERVER_ERROR", 59, http.StatusInternalServerError, []string{"retry"}}
	// CodeForbidden: the user lacks a permission.
	CodeForbidden = &Code{"ERR_FORBIDDEN", 60, http.StatusForbidden, nil}
	// CodeUnauthenticated: missing or wrong credentials.
	CodeUnauthenticated = &Code{"ERR_UNAUTHENTICATED", 61, http.StatusUnauthorized, nil}
	// CodeMethodNotAllowed: the path does not accept the method.
	CodeMethodNotAllowed = &Code{"ERR_METHOD_NOT_ALLOWED", 62, http.StatusMethodNotAllowed, nil}
	// CodeInvalidRequest: the request is malformed or not allowed in the
	// function's current state.
	CodeInvalidRequest = &Code{"ERR_INVALID_REQUEST", 63, http.StatusBadRequest, nil}
	// CodeAppPaused: the function is already paused.
	CodeAppPaused = &Code{"ERR_APP_PAUSED", 64, http.StatusUnprocessableEntity, nil}
	// CodeCursorLimitReached: too many cursor-aware functions on a keyspace.
	CodeCursorLimitReached = &Code{"ERR_CURSOR_LIMIT_REACHED", 65, http.StatusBadRequest, nil}
	// CodeSyncGatewayDetection: Sync Gateway detection failed.
	CodeSyncGatewayDetection = &Code{"ERR_SYNC_GATEWAY_DETECTION", 66, http.StatusInternalServerError, nil}
	// CodeJWTJITNotSupported: JWT just-in-time users are not supported.
	CodeJWTJITNotSupported = &Code{"ERR_JWT_JIT_NOT_SUPPORTED", 67, http.StatusForbidden, nil}
)

// Codes returns the whole error table ordered by number (for /getErrorCodes).
func Codes() []*Code {
	all := []*Code{
		CodeDelAppPS, CodeDelAppTS, CodeSaveAppPS, CodeSaveAppTS, CodeSetSettingsPS,
		CodeDelAppSettingsPS, CodeAppNotDeployed, CodeAppNotFoundTS, CodeMarshalResp,
		CodeReadReq, CodeUnmarshalPld, CodeSrcMbSame, CodeAppAlreadyDeployed,
		CodeAppNotBootstrapped, CodeAppNotUndeployed, CodeStatusesNotFound,
		CodeBucketTypeCheck, CodeBucketMemcached, CodeHandlerCompilation,
		CodeAppNameMismatch, CodeSaveConfig, CodeGetConfig, CodeGetRebalanceStatus,
		CodeRebalanceOngoing, CodeInvalidConfig, CodeAppCodeSize, CodeBucketMissing,
		CodeClusterVersion, CodeDebuggerDisabled, CodeMixedMode, CodeBucketAccess,
		CodeInterFunctionRecursion, CodeInterBucketRecursion, CodeUnsupportedSyncGateway,
		CodeAppNotFound, CodeMetakvWriteFailed, CodeRequestedOpFailed,
		CodeCollectionMissing, CodeMagmaBackend, CodeInternal, CodeForbidden,
		CodeUnauthenticated, CodeMethodNotAllowed, CodeInvalidRequest, CodeAppPaused,
		CodeCursorLimitReached, CodeSyncGatewayDetection, CodeJWTJITNotSupported,
	}
	slices.SortFunc(all, func(a, b *Code) int { return a.Number - b.Number })
	return all
}

// Error is what the Service returns for every failure: a Code from the
// table, a specific human description, and optionally a structured
// runtime_info payload (compilation details). REST renders it as
//
//	{"name", "code", "description", "attributes", "runtime_info": {"code", "info"}}
//
// which satisfies both the 7.0 and the 7.1+ clients.
type Error struct {
	// Code is the table entry; never nil.
	Code *Code
	// Description is the specific message, e.g. "Function: f1 not found".
	Description string
	// Info, when non-nil, replaces Description as runtime_info.info (used for
	// the structured compilation status of ERR_HANDLER_COMPILATION).
	Info any
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("eventing: %s: %s: %v", e.Code.Name, e.Description, e.Err)
	}
	return fmt.Sprintf("eventing: %s: %s", e.Code.Name, e.Description)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's Code, so errors.Is(err, CodeX) works.
func (e *Error) Is(target error) bool {
	c, ok := target.(*Code)
	return ok && c == e.Code
}

// Attributes returns the code's static attributes (never nil).
func (e *Error) Attributes() []string {
	if e.Code.Attributes == nil {
		return []string{}
	}
	return e.Code.Attributes
}

// RuntimeInfo returns the runtime_info.info payload.
func (e *Error) RuntimeInfo() any {
	if e.Info != nil {
		return e.Info
	}
	return e.Description
}

// newError builds an *Error with a formatted description.
func newError(code *Code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

// internalError wraps an unexpected failure as INTERNAL_SERVER_ERROR.
func internalError(err error, format string, args ...any) *Error {
	return &Error{Code: CodeInternal, Description: fmt.Sprintf(format, args...), Err: err}
}

// AsError converts any error to an *Error: an *Error (possibly wrapped) is
// returned as is, a bare *Code gets its name as description, anything else
// becomes INTERNAL_SERVER_ERROR.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var c *Code
	if errors.As(err, &c) {
		return &Error{Code: c, Description: c.Name}
	}
	// err's text is Go's, not the API's; the REST layer logs it with Err.
	return &Error{Code: CodeInternal, Description: "internal error; the server logged the details", Err: err}
}

// Sentinel errors of the package's configuration.
var (
	// ErrNoBackend: Config.Backend is nil.
	ErrNoBackend = errors.New("eventing: config has no backend")
	// ErrNoKeyspaces: Config.Keyspaces is nil.
	ErrNoKeyspaces = errors.New("eventing: config has no keyspaces checker")
	// ErrNoCompiler: Config.Compiler is nil.
	ErrNoCompiler = errors.New("eventing: config has no compiler")
)
