import type { z } from "zod";
import { GatewayError } from "../../shared/errors.js";

/** Turns the first schema issue into an invalid_request error naming the field, e.g. `messages[0].role`. */
export function zodIssueToGatewayError(error: z.ZodError): GatewayError {
  const issue = error.issues[0]!;
  const param = issue.path.reduce<string>(
    (acc, part) =>
      typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
    "",
  );
  let message = issue.message;
  if (issue.code === "invalid_union" && param.endsWith("]") && param.startsWith("messages")) {
    message = "is not a valid chat message (check role and content)";
  }
  return new GatewayError("invalid_request", param ? `${param}: ${message}` : message, {
    param: param || undefined,
  });
}
