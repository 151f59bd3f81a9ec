-- Argo CD health of every netposture kind (SecurityGroupPosture, VPCPosture, CloudAccount,
-- PostureGuardrail), from the status the controller writes (README, "GitOps health"):
--   Progressing  the controller has not yet observed this generation, or is still working
--                towards it on its own (Reconciling=True: repairs being verified, a grace
--                period, a peer or the account not ready yet, AWS errors being retried);
--   Healthy      Ready=True: AWS matches the spec (a CloudAccount: its credentials verified);
--   Suspended    a plan waits for a person to approve it (Stalled=True with PlanProposed or
--                BlastRadiusExceeded): nothing is wrong yet, nothing moves either;
--   Degraded     Stalled=True otherwise (a spec, account, adoption or guardrail to fix, drift
--                that keeps coming back), drift reported in Detect mode (AWS differs from the
--                spec and nothing repairs it), or Ready=False on a kind without Stalled.
-- Argo CD runs it with `obj` set to the live object (gopher-lua, Lua 5.1).
local hs = {status = "Progressing", message = "Waiting for the netposture controller"}
local function condition(kind)
  if obj.status ~= nil and obj.status.conditions ~= nil then
    for _, c in ipairs(obj.status.conditions) do
      if c.type == kind then
        return c
      end
    end
  end
  return nil
end
local function say(status, c, fallback)
  hs.status = status
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    hs.message = c.reason .. ": " .. c.message
  elseif c ~= nil and c.reason ~= nil then
    hs.message = c.reason
  else
    hs.message = fallback
  end
  return hs
end

local generation = obj.metadata.generation or 0
local observed = 0
if obj.status ~= nil and obj.status.observedGeneration ~= nil then
  observed = obj.status.observedGeneration
end
if observed < generation then
  hs.message = "Waiting for the netposture controller to observe generation " .. generation
  return hs
end
local ready, stalled, reconciling = condition("Ready"), condition("Stalled"), condition("Reconciling")
if ready ~= nil and ready.status == "True" then
  return say("Healthy", ready, "Ready")
end
if stalled ~= nil and stalled.status == "True" then
  if stalled.reason == "PlanProposed" or stalled.reason == "BlastRadiusExceeded" then
    return say("Suspended", stalled, "A plan waits for approval")
  end
  return say("Degraded", stalled, "Stalled")
end
if reconciling ~= nil and reconciling.status == "True" then
  return say("Progressing", reconciling, "Reconciling")
end
if ready ~= nil and ready.status == "False" then
  return say("Degraded", ready, "Not ready")
end
return hs
