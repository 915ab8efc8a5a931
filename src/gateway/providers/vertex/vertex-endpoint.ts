/** Where Vertex AI serves a region, and the path of a publisher model's method there. */

export type VertexPublisher = "google" | "anthropic";

export function vertexBaseUrl(region: string): string {
  if (region === "global") return "https://aiplatform.googleapis.com";
  // Multi-region locations have their own hosts.
  if (region === "us" || region === "eu") return `https://aiplatform.${region}.rep.googleapis.com`;
  return `https://${region}-aiplatform.googleapis.com`;
}

function pathSegment(value: string): string {
  // Claude model ids carry a version after "@", which Vertex expects literally.
  return encodeURIComponent(value).replace(/%40/g, "@");
}

export function vertexModelUrl(
  base: string,
  project: string,
  region: string,
  publisher: VertexPublisher,
  model: string,
  method: string,
): string {
  return `${base}/v1/projects/${pathSegment(project)}/locations/${pathSegment(region)}/publishers/${publisher}/models/${pathSegment(model)}:${method}`;
}
