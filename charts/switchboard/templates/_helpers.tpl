{{- define "switchboard.labels" -}}
app.kubernetes.io/name: switchboard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "switchboard.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
{{- define "switchboard.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- /*
The name of an object outside the release namespace (cluster-scoped, or in a watched namespace):
<namespace>-<release>-<suffix>, so same-named releases in two namespaces never share one. Over 63
characters, the namespace-release part is cut and an 8-character hash of the full name keeps it unique.
Call with (list $ "suffix").
*/ -}}
{{- define "switchboard.crossNamespaceName" -}}
{{- $root := index . 0 -}}
{{- $suffix := index . 1 -}}
{{- $full := printf "%s-%s-%s" $root.Release.Namespace $root.Release.Name $suffix -}}
{{- if le (len $full) 63 -}}
{{- $full -}}
{{- else -}}
{{- $keep := sub 63 (add (len $suffix) 10) | int -}}
{{- $prefix := printf "%s-%s" $root.Release.Namespace $root.Release.Name | trunc $keep | trimSuffix "-" -}}
{{- printf "%s-%s-%s" $prefix (sha256sum $full | trunc 8) $suffix -}}
{{- end -}}
{{- end -}}
{{- /* What the operator needs wherever it watches: the ClusterRole's rules, or each watched namespace's Role's. */ -}}
{{- define "switchboard.operatorWatchRules" -}}
- apiGroups: ["llm.switchboard.dev"]
  resources: ["llmproviders", "llmroutes", "embeddingmigrations"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["llm.switchboard.dev"]
  resources: ["llmproviders/status", "llmroutes/status", "embeddingmigrations/status"]
  verbs: ["get", "patch", "update"]
# Credentials referenced by LLMProviders (secretRef) and consumer API keys of LLMRoutes.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# EmbeddingMigrations run as Jobs under a ServiceAccount and Role made for each (owned by it, so the
# garbage collector deletes them with it); the Role only grants what the operator holds above.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create"]
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["create"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["create"]
{{- end -}}
