/** The parts of Vertex AI's Gemini, predict and error wire formats the adapter writes and reads. */

export interface GeminiPart {
  text?: string;
  /** Gemini 2.5+ marks thinking summaries; they are not part of the answer. */
  thought?: boolean;
  /** Opaque reasoning state (base64); on function calls Gemini 3 requires it back in history. */
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType: string; fileUri: string };
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> };
  functionResponse?: { id?: string; name: string; response: Record<string, unknown> };
}

export interface GeminiContent {
  role: "user" | "model";
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: {
    functionCallingConfig: { mode: "AUTO" | "ANY" | "NONE"; allowedFunctionNames?: string[] };
  };
  generationConfig?: {
    maxOutputTokens?: number;
    temperature?: number;
    topP?: number;
    stopSequences?: string[];
    responseMimeType?: string;
    responseSchema?: Record<string, unknown>;
    thinkingConfig?: {
      includeThoughts?: boolean;
      thinkingBudget?: number;
      thinkingLevel?: "LOW" | "HIGH";
    };
  };
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  /** Thinking tokens, billed as output but not counted in candidatesTokenCount. */
  thoughtsTokenCount?: number;
}

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  finishMessage?: string;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
  /** Vertex reports a failure inside a 200 stream as an event carrying only this. */
  error?: GoogleErrorPayload;
}

/** `google.rpc.Status` as Google's JSON APIs render it. */
export interface GoogleErrorPayload {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{ "@type"?: string; retryDelay?: string; reason?: string }>;
}

export interface GoogleErrorBody {
  error?: GoogleErrorPayload;
}

export interface VertexEmbeddingPredictResponse {
  predictions?: Array<{
    embeddings?: { values?: number[]; statistics?: { token_count?: number; truncated?: boolean } };
  }>;
}
