# The shipped matrix's severity decision, written in jq, as a yardstick for `triage classify`.
def yes(f): f == true or f == "yes" or f == "true" or f == "y" or f == "1";
def blocking: .impact == "workflow_blocked" or .impact == "revenue_risk" or .impact == "service_unavailable";
def many: .scope == "many_accounts" or .scope == "system_wide";
def workaround: if .impact == "none" then "available" else (.workaround // "available") end;
def deadline: if .impact == "none" then false else yes(.deadline) end;
{ticket: .ticket,
 severity: (if yes(.security) then 1
            elif many and blocking and yes(.confirmed) and workaround == "none" then 1
            elif many and blocking then 2
            elif .scope == "one_account" and blocking and workaround != "available" then 2
            elif deadline then 2
            elif .impact != "none" then 3
            else 4 end)}
