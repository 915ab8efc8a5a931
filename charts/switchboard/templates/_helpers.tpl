{{- define "switchboard.labels" -}}
app.kubernetes.io/name: switchboard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "switchboard.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
