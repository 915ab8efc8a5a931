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
  local ready, healthy = nil, nil
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then ready = c end
    if c.type == "Healthy" then healthy = c end
  end
  if ready ~= nil and ready.status == "False" then
    return { status = "Degraded", message = (ready.reason or "") .. ": " .. (ready.message or "") }
  end
  if ready ~= nil and ready.status == "True" then
    if obj.status.health == "unhealthy" or obj.status.circuit == "open" then
      -- The Healthy condition says why (CircuitOpen, Unhealthy); Ready only says it is published.
      if healthy ~= nil and healthy.status == "False" then
        return { status = "Degraded", message = (healthy.reason or "") .. ": " .. (healthy.message or "") }
      end
      return { status = "Degraded", message = "Upstream " .. (obj.status.health or "unhealthy") .. ", circuit " .. (obj.status.circuit or "open") }
    end
    return { status = "Healthy", message = ready.message or "" }
  end
end
return hs
