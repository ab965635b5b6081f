package io.headgate.api;

import io.headgate.api.v1.DescribeModelRequest;
import io.headgate.api.v1.ListModelsRequest;
import io.headgate.api.v1.ListModelsResponse;
import io.headgate.api.v1.ModelInfo;
import io.headgate.api.v1.Models;
import io.headgate.server.ModelHost;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;

/** {@code headgate.v1.Models}: what is served, in which state, with which dimensions and controls. */
@GrpcService
public class ModelsService implements Models {

    @Inject
    ModelHost models;

    @Override
    public Uni<ListModelsResponse> list(ListModelsRequest request) {
        ListModelsResponse.Builder b = ListModelsResponse.newBuilder();
        models.entries().values().forEach(e -> b.addModels(info(e)));
        return Uni.createFrom().item(b.build());
    }

    @Override
    public Uni<ModelInfo> describe(DescribeModelRequest request) {
        ModelHost.Entry e = models.entry(request.getModel());
        if (e == null) {
            return Uni.createFrom().failure(Errors.notFound("model", "no model '" + request.getModel() + "'; available: "
                    + String.join(", ", models.entries().keySet())));
        }
        return Uni.createFrom().item(info(e));
    }

    private static ModelInfo info(ModelHost.Entry e) {
        ModelInfo.Builder b = ModelInfo.newBuilder().setName(e.name()).setState(e.state().name().toLowerCase());
        if (e.error() != null) b.setError(e.error());
        if (e.model() != null) {
            var m = e.model().manifest();
            var d = m.dimensions();
            b.setKind(m.kind()).setLayers(d.layers()).setHeads(d.heads()).setKvHeads(d.kvHeads()).setHeadDim(d.headDim())
                    .setModelDim(d.modelDim()).setVocabSize(d.vocabSize()).setMaxLength(m.maxLength())
                    .addAllControls(m.controls()).setSlots(e.model().scheduler().slots())
                    .setExecution(e.model().execution().label());
        }
        return b.build();
    }
}
