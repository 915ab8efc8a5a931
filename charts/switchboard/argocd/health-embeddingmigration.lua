-- Argo CD health check for llm.switchboard.dev/EmbeddingMigration (kstatus order).
if obj.metadata.deletionTimestamp ~= nil then
  return { status = "Progressing", message = "Terminating" }
end
if obj.status == nil or obj.status.phase == nil then
  return { status = "Progressing", message = "Pending" }
end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration ~= obj.metadata.generation then
  return { status = "Progressing", message = "The operator has not observed the latest spec yet" }
end
local phase = obj.status.phase
local progress = ""
if obj.status.progress ~= nil then
  progress = tostring(obj.status.progress.done or 0) .. "/" .. tostring(obj.status.progress.total or 0)
end
if phase == "Succeeded" then return { status = "Healthy", message = "Migrated " .. progress } end
if phase == "Failed" then return { status = "Degraded", message = "Failed at " .. progress } end
if phase == "Paused" then return { status = "Suspended", message = "Paused at " .. progress } end
return { status = "Progressing", message = phase .. " " .. progress }
