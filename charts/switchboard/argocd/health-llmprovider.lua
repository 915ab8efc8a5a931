-- Argo CD health check for llm.switchboard.dev/LLMProvider (kstatus order).
local hs = { status = "Progressing", message = "Waiting for the operator" }
if obj.metadata.deletionTimestamp ~= nil then
  return { status = "Progressing", message = "Terminating" }
end
if obj.status == nil then return hs end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration ~= obj.metadata.generation then
  return { status = "Progressing", message = "The operator has not observed the latest spec yet" }
end
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      if c.status == "True" then
        if obj.status.health == "unhealthy" or obj.status.circuit == "open" then
          return { status = "Degraded", message = "Upstream unhealthy or circuit open: " .. (c.message or "") }
        end
        return { status = "Healthy", message = c.message or "" }
      elseif c.status == "False" then
        return { status = "Degraded", message = (c.reason or "") .. ": " .. (c.message or "") }
      end
    end
  end
end
return hs
